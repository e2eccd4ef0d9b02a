"""`mlcycle data ...`, `mlcycle model ...` and `mlcycle compute ...` against a fake API."""
from __future__ import annotations

import argparse
import io
import json
import tarfile

import pytest
import yaml

from shared.cli import assets
from shared.cli.errors import CliError
from shared.cli.main import main
from tests.unit.test_cli_fakeapi import Answer, api, snapshot_accepted  # noqa: F401


def bundle_of(request) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(request.body), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def version(state: str, **extra) -> dict:
    return {"name": "iris", "version": "1", "state": state, "error": None, **extra}


class TestDataCreate:
    def test_polls_the_version_until_it_is_registered(self, api, tmp_path, capsys):
        (tmp_path / "iris.csv").write_text("a,b\n")
        (tmp_path / "data.yml").write_text("name: iris\ntype: uri_file\npath: iris.csv\n")
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/data", Answer(202, version("Registering")))
        api.on("GET", "/api/data/iris/versions/1", Answer(200, version("Registering")),
               Answer(200, version("Registering")), Answer(200, version("Registered")))
        assert main(["data", "create", "-f", str(tmp_path / "data.yml")]) == 0
        assert len(api.calls("GET", "/api/data/iris/versions/1")) == 3
        assert json.loads(capsys.readouterr().out)["state"] == "Registered"
        assert set(bundle_of(api.requests[0])) == {"data.yml", "iris.csv"}

    def test_a_failed_registration_exits_1_with_its_error(self, api, tmp_path, capsys):
        (tmp_path / "iris.csv").write_text("a,b\n")
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/data", Answer(202, version("Registering")))
        api.on("GET", "/api/data/iris/versions/1",
               Answer(200, version("Failed", error={"message": "file vanished"})))
        code = main(["data", "create", "--name", "iris", "--path", str(tmp_path / "iris.csv")])
        assert code == 1
        assert capsys.readouterr().err == "mlcycle: iris:1 failed: file vanished\n"

    def test_from_flags_guesses_uri_file_for_a_file(self, api, tmp_path):
        (tmp_path / "iris.csv").write_text("a,b\n")
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/data", Answer(202, version("Registered")))
        api.on("GET", "/api/data/iris/versions/1", Answer(200, version("Registered")))
        main(["data", "create", "--name", "iris", "--path", str(tmp_path / "iris.csv")])
        spec = yaml.safe_load(bundle_of(api.requests[0])["spec.yml"])
        assert spec["type"] == "uri_file" and spec["path"] == "./iris.csv"

    def test_show_by_label_asks_for_latest(self, api, capsys):
        api.on("GET", "/api/data/iris/versions/latest", Answer(200, version("Registered")))
        assert main(["data", "show", "-n", "iris", "--label", "latest"]) == 0

    def test_list_by_name_keeps_that_name(self, api, capsys):
        api.on("GET", "/api/data", Answer(200, {"value": [version("Registered"),
                                                          {"name": "digits", "version": "1"}]}))
        assert main(["data", "list", "-n", "iris"]) == 0
        assert [d["name"] for d in json.loads(capsys.readouterr().out)] == ["iris"]


class TestModelCreate:
    def test_from_flags_builds_a_valid_model_spec(self, api, tmp_path, capsys):
        (tmp_path / "model").mkdir()
        (tmp_path / "model" / "model.pkl").write_bytes(b"\x80pickle")
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/models", Answer(202, version("Registering", name="clf")))
        api.on("GET", "/api/models/clf/versions/1", Answer(200, version("Registered", name="clf")))
        code = main(["model", "create", "--name", "clf", "--path", str(tmp_path / "model"),
                     "--version", "1", "--tags", "framework=sklearn", "stage=dev"])
        assert code == 0
        bundle = bundle_of(api.requests[0])
        assert set(bundle) == {"spec.yml", "model/model.pkl"}
        assert yaml.safe_load(bundle["spec.yml"]) == {
            "$schema": "https://azuremlschemas.azureedge.net/latest/model.schema.json",
            "name": "clf", "version": "1", "path": "./model", "type": "custom_model",
            "tags": {"framework": "sklearn", "stage": "dev"},
        }
        assert api.requests[1].json() == {"snapshot": "sha256-of-bundle", "spec_path": "spec.yml",
                                          "set": []}

    def test_from_a_job_output_bundles_no_files(self, api, capsys):
        uri = "azureml://jobs/run-1/outputs/artifacts/paths/outputs/model.pkl"
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/models", Answer(202, version("Registered", name="clf")))
        api.on("GET", "/api/models/clf/versions/1", Answer(200, version("Registered", name="clf")))
        assert main(["model", "create", "--name", "clf", "--path", uri]) == 0
        bundle = bundle_of(api.requests[0])
        assert set(bundle) == {"spec.yml"} and yaml.safe_load(bundle["spec.yml"])["path"] == uri

    def test_without_file_or_name_is_a_clear_error(self, api, capsys):
        assert main(["model", "create", "--path", "x"]) == 1
        assert capsys.readouterr().err == "mlcycle: give -f FILE, or --name and --path\n"


class TestComputeCreate:
    def test_from_flags_builds_an_aml_compute_spec(self, api, capsys):
        api.on("POST", "/api/snapshots", snapshot_accepted())
        api.on("POST", "/api/computes", Answer(201, {"name": "gpu"}))
        assert main(["compute", "create", "--name", "gpu", "--type", "amlcompute",
                     "--min-instances", "0", "--max-instances", "2", "--size", "Standard_NC6",
                     "--tier", "low_priority", "--idle-time-before-scale-down", "120"]) == 0
        spec = yaml.safe_load(bundle_of(api.requests[0])["spec.yml"])
        assert spec == {
            "$schema": "https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json",
            "name": "gpu", "type": "amlcompute", "size": "Standard_NC6", "min_instances": 0,
            "max_instances": 2, "idle_time_before_scale_down": 120, "tier": "low_priority",
        }



def test_model_download_refuses_a_listing_that_escapes_the_folder(tmp_path):
    class Listing:  # a server answering with a path that climbs out
        def json(self, method, route):
            return {"name": "m", "version": "1", "value": ["../../evil.txt"]}

    args = argparse.Namespace(name="m", version="1", download_path=str(tmp_path))
    with pytest.raises(CliError, match="outside"):
        assets.model_download(args, Listing())
    assert not (tmp_path.parent / "evil.txt").exists()
