"""`mlcycle job ...` against a fake API."""
from __future__ import annotations

import io
import json
import tarfile

from shared.cli.main import main
from tests.unit.test_cli_fakeapi import KEY, Answer, api, snapshot_accepted  # noqa: F401

RUN = {"name": "run-1", "status": "NotStarted", "error": None}


def spec_folder(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text("print('training')")
    (tmp_path / "job.yml").write_text("code: src\ncommand: python train.py\ncompute: azureml:cpu\n")
    return tmp_path / "job.yml"


def logs(body: bytes, next_offset: int, status: str) -> Answer:
    return Answer(200, body, {"x-next-offset": str(next_offset), "x-run-status": status,
                              "Content-Type": "text/plain"})


class TestJobCreate:
    def test_uploads_the_bundle_then_posts_the_job_with_its_overrides(self, api, tmp_path, capsys):
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/jobs", Answer(201, RUN))
        code = main(["job", "create", "-f", str(spec_folder(tmp_path)),
                     "--set", "compute=azureml:gpu", "--set", "tags.team=ml", "-n", "my-run"])
        assert code == 0
        upload, submit = api.requests
        assert (upload.path, submit.path) == ("/api/snapshots", "/api/jobs")
        with tarfile.open(fileobj=io.BytesIO(upload.body), mode="r:gz") as tar:
            assert {"job.yml", "src/train.py"} <= set(tar.getnames())
        assert submit.json() == {"snapshot": "sha256-of-bundle", "spec_path": "job.yml",
                                 "set": ["compute=azureml:gpu", "tags.team=ml", "name=my-run"]}
        studio = {"Studio": {"endpoint": f"{api.endpoint}/api/studio/runs/run-1"}}
        assert json.loads(capsys.readouterr().out) == {**RUN, "services": studio}

    def test_sends_the_key_header_on_every_request(self, api, tmp_path):
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/jobs", Answer(201, RUN))
        main(["job", "create", "-f", str(spec_folder(tmp_path))])
        assert [r.headers.get("x-functions-key") for r in api.requests] == [KEY, KEY]

    def test_with_stream_follows_the_logs_to_the_end(self, api, tmp_path, capsys):
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/jobs", Answer(201, RUN))
        api.on("GET", "/api/jobs/run-1/logs", logs(b"epoch 1\n", 8, "Completed"),
               logs(b"", 8, "Completed"))
        assert main(["job", "create", "-f", str(spec_folder(tmp_path)), "--stream"]) == 0
        printed = capsys.readouterr()
        assert printed.out.startswith("epoch 1\n")
        assert f"Web View: {api.endpoint}/api/studio/runs/run-1\n" in printed.err


class TestJobStream:
    def test_prints_log_chunks_from_the_next_offset_and_exits_0_when_completed(self, api, capsys):
        api.on("GET", "/api/jobs/run-1/logs", logs(b"", 0, "Queued"), logs(b"hello ", 6, "Running"),
               logs("wörld\n".encode(), 13, "Running"), logs(b"", 13, "Completed"))
        assert main(["job", "stream", "-n", "run-1"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("hello wörld\n")
        assert "RunId: run-1\nStatus: Completed" in out
        offsets = [r.query for r in api.calls("GET", "/api/jobs/run-1/logs")]
        assert offsets == ["rank=0&offset=0", "rank=0&offset=0", "rank=0&offset=6",
                           "rank=0&offset=13"]

    def test_exits_1_with_the_error_when_the_run_failed(self, api, capsys):
        api.on("GET", "/api/jobs/run-1/logs", logs(b"Traceback...\n", 13, "Failed"),
               logs(b"", 13, "Failed"))
        api.on("GET", "/api/jobs/run-1", Answer(200, {**RUN, "status": "Failed",
                                                      "error": {"message": "exit code 3"}}))
        assert main(["job", "stream", "-n", "run-1"]) == 1
        out = capsys.readouterr().out
        assert "Status: Failed" in out and "exit code 3" in out

    def test_a_canceled_run_exits_1(self, api, capsys):
        api.on("GET", "/api/jobs/run-1/logs", logs(b"", 0, "Canceled"))
        assert main(["job", "stream", "-n", "run-1"]) == 1


class TestJobDownload:
    FILES = ["outputs/model.pkl", "outputs/sub/metrics.json", "user_logs/std_log_process_0.txt",
             "named_outputs/model_dir/model.onnx"]

    def serve_files(self, api):
        api.on("GET", "/api/jobs/run-1/files", Answer(200, {"value": self.FILES}))
        for path in self.FILES:
            api.on("GET", f"/api/jobs/run-1/files/{path}", Answer(200, path.encode()))

    def written(self, tmp_path):
        root = tmp_path / "dl"
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def test_writes_the_outputs_by_default(self, api, tmp_path):
        self.serve_files(api)
        assert main(["job", "download", "-n", "run-1", "--download-path", str(tmp_path / "dl")]) == 0
        assert self.written(tmp_path) == ["outputs/model.pkl", "outputs/sub/metrics.json"]
        assert (tmp_path / "dl" / "outputs" / "model.pkl").read_bytes() == b"outputs/model.pkl"

    def test_all_writes_every_file(self, api, tmp_path):
        self.serve_files(api)
        assert main(["job", "download", "-n", "run-1", "--all", "-p", str(tmp_path / "dl")]) == 0
        assert self.written(tmp_path) == sorted(self.FILES)

    def test_output_name_writes_one_named_output(self, api, tmp_path):
        self.serve_files(api)
        assert main(["job", "download", "-n", "run-1", "--output-name", "model_dir",
                     "-p", str(tmp_path / "dl")]) == 0
        assert self.written(tmp_path) == ["named_outputs/model_dir/model.onnx"]


class TestJobReads:
    def test_list_prints_the_runs(self, api, capsys):
        api.on("GET", "/api/jobs", Answer(200, {"value": [RUN]}))
        assert main(["job", "list"]) == 0
        assert json.loads(capsys.readouterr().out) == [RUN]

    def test_list_as_a_table(self, api, capsys):
        api.on("GET", "/api/jobs", Answer(200, {"value": [RUN]}))
        assert main(["job", "list", "-o", "table"]) == 0
        header, _, row = capsys.readouterr().out.splitlines()
        assert header.split()[:2] == ["Name", "DisplayName"] and row.startswith("run-1")

    def test_cancel_posts_to_the_cancel_route(self, api, capsys):
        api.on("POST", "/api/jobs/run-1/cancel", Answer(200, {**RUN, "status": "CancelRequested"}))
        assert main(["job", "cancel", "-n", "run-1"]) == 0
        assert json.loads(capsys.readouterr().out)["status"] == "CancelRequested"
