"""Bundling a spec: the spec and the local paths it references, at their relative places."""
from __future__ import annotations

import io
import tarfile

import pytest
import yaml

from shared.cli.bundle import (apply_path_sets, bundle_generated_spec, bundle_spec_file,
                               referenced_paths)
from shared.cli.errors import CliError


def names(data: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name for m in tar.getmembers() if m.isfile()}


def read(data: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return tar.extractfile(name).read()


def write(path, text="x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


JOB = """
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: ../src
command: python train.py --data ${{inputs.training}} --lr ${{inputs.lr}}
inputs:
  training: {type: uri_file, path: ../data/iris.csv}
  registered: {type: uri_folder, path: azureml:iris:1}
  remote: {type: uri_file, path: https://example.com/x.csv}
  lr: 0.1
environment:
  image: python:3.11
  conda_file: conda.yml
compute: azureml:cpu-cluster
"""


@pytest.fixture
def project(tmp_path):
    write(tmp_path / "jobs" / "job.yml", JOB)
    write(tmp_path / "jobs" / "conda.yml", "dependencies: []")
    write(tmp_path / "jobs" / "unrelated.yml")
    write(tmp_path / "src" / "train.py", "print('hi')")
    write(tmp_path / "src" / "pkg" / "util.py")
    write(tmp_path / "src" / "pkg" / "__pycache__" / "util.cpython-311.pyc")
    write(tmp_path / "src" / ".git" / "HEAD")
    write(tmp_path / "src" / "big" / "weights.bin")
    write(tmp_path / "src" / "notes.tmp")
    write(tmp_path / "src" / ".amlignore", "# not needed remotely\nbig/\n*.tmp\n")
    write(tmp_path / "data" / "iris.csv", "a,b\n1,2\n")
    write(tmp_path / "data" / "other.csv")
    write(tmp_path / "elsewhere.txt")
    return tmp_path


class TestBundleSpecFile:
    def test_holds_the_spec_and_referenced_files_at_their_relative_places(self, project):
        data, spec_path = bundle_spec_file(project / "jobs" / "job.yml")
        assert spec_path == "jobs/job.yml"
        assert names(data) == {
            "jobs/job.yml", "jobs/conda.yml", "src/train.py", "src/pkg/util.py",
            "src/.amlignore", "data/iris.csv",
        }
        assert read(data, "data/iris.csv") == b"a,b\n1,2\n"

    def test_leaves_out_unreferenced_files_and_what_amlignore_lists(self, project):
        members = names(bundle_spec_file(project / "jobs" / "job.yml")[0])
        for left_out in ("jobs/unrelated.yml", "data/other.csv", "elsewhere.txt",
                         "src/big/weights.bin", "src/notes.tmp", "src/.git/HEAD",
                         "src/pkg/__pycache__/util.cpython-311.pyc"):
            assert left_out not in members

    def test_falls_back_to_gitignore_when_there_is_no_amlignore(self, project):
        (project / "src" / ".amlignore").unlink()
        write(project / "src" / ".gitignore", "/pkg\n")
        members = names(bundle_spec_file(project / "jobs" / "job.yml")[0])
        assert "src/pkg/util.py" not in members and "src/big/weights.bin" in members

    def test_code_in_the_spec_folder_keeps_the_spec_folder_as_root(self, tmp_path):
        write(tmp_path / "job.yml", "code: .\ncommand: python main.py\n")
        write(tmp_path / "main.py")
        data, spec_path = bundle_spec_file(tmp_path / "job.yml")
        assert spec_path == "job.yml"
        assert names(data) == {"job.yml", "main.py"}

    def test_the_same_content_gives_the_same_bytes(self, project):
        assert bundle_spec_file(project / "jobs" / "job.yml") == bundle_spec_file(
            project / "jobs" / "job.yml")

    def test_a_missing_referenced_path_is_named(self, tmp_path):
        write(tmp_path / "job.yml", "code: ./nowhere\ncommand: x\n")
        with pytest.raises(CliError, match=r"code refers to \./nowhere, which does not exist"):
            bundle_spec_file(tmp_path / "job.yml")

    def test_invalid_yaml_is_one_line(self, tmp_path):
        write(tmp_path / "job.yml", "code: [unclosed\n")
        with pytest.raises(CliError) as caught:
            bundle_spec_file(tmp_path / "job.yml")
        assert "invalid YAML" in str(caught.value) and "\n" not in str(caught.value)


class TestAbsolutePaths:
    """`az ml` uploads a local path wherever it lies; so does the CLI, under a name of
    its own inside the bundle, with the spec rewritten to point there."""

    @pytest.fixture
    def elsewhere(self, tmp_path):
        write(tmp_path / "far" / "away" / "iris.csv", "a,b\n1,2\n")
        write(tmp_path / "far" / "conda.yml", "dependencies: []\n")
        return tmp_path / "far"

    def test_an_absolute_input_goes_in_under_its_own_name(self, tmp_path, elsewhere):
        spec = write(tmp_path / "job" / "job.yml", yaml.safe_dump({
            "command": "python main.py", "code": "./src",
            "inputs": {"iris": {"type": "uri_file", "path": str(elsewhere / "away" / "iris.csv")}},
            "environment": {"image": "python", "conda_file": str(elsewhere / "conda.yml")}}))
        write(tmp_path / "job" / "src" / "main.py")

        data, spec_path = bundle_spec_file(spec)

        assert spec_path == "job.yml"
        assert names(data) == {"job.yml", "src/main.py", ".mlcycle-local-paths/0/iris.csv",
                               ".mlcycle-local-paths/1/conda.yml"}
        rewritten = yaml.safe_load(read(data, "job.yml"))
        assert rewritten["inputs"]["iris"]["path"] == ".mlcycle-local-paths/0/iris.csv"
        assert rewritten["environment"]["conda_file"] == ".mlcycle-local-paths/1/conda.yml"
        assert read(data, ".mlcycle-local-paths/0/iris.csv") == b"a,b\n1,2\n"

    def test_copies_stay_out_of_a_code_folder_that_is_the_spec_folder(self, tmp_path, elsewhere):
        spec = write(tmp_path / "proj" / "job.yml", yaml.safe_dump({
            "command": "python main.py", "code": ".",
            "inputs": {"data": {"type": "uri_folder", "path": str(elsewhere / "away")}}}))
        write(tmp_path / "proj" / "main.py")

        data, spec_path = bundle_spec_file(spec)

        assert spec_path == "proj/job.yml"
        assert names(data) == {"proj/job.yml", "proj/main.py",
                               ".mlcycle-local-paths/0/away/iris.csv"}
        assert yaml.safe_load(read(data, spec_path))["inputs"]["data"]["path"] == \
            "../.mlcycle-local-paths/0/away"

    def test_a_set_of_a_path_is_applied_here_so_that_its_file_is_bundled(self, tmp_path,
                                                                         elsewhere):
        spec = write(tmp_path / "job" / "job.yml", yaml.safe_dump({
            "command": "python main.py", "inputs": {
                "iris": {"type": "uri_file", "path": "https://example.com/iris.csv"}}}))
        loaded = yaml.safe_load(spec.read_text())

        changed, rest = apply_path_sets(loaded, [
            f"inputs.iris.path={elsewhere / 'away' / 'iris.csv'}", "inputs.lr=0.1"])
        data, spec_path = bundle_spec_file(spec, changed, rewritten=True)

        assert rest == ["inputs.lr=0.1"]  # the server applies what names no path
        assert ".mlcycle-local-paths/0/iris.csv" in names(data)
        assert yaml.safe_load(read(data, spec_path))["inputs"]["iris"]["path"] == \
            ".mlcycle-local-paths/0/iris.csv"

    def test_the_server_accepts_the_rewritten_spec_inside_the_bundle(self, tmp_path, elsewhere):
        from shared.runner.snapshot import extract_snapshot
        from shared.specs import load_spec

        spec = write(tmp_path / "proj" / "job.yml", yaml.safe_dump({
            "command": "cat ${{inputs.iris}}", "code": ".",
            "environment": "azureml:AzureML-sklearn-1.5@latest",
            "inputs": {"iris": {"type": "uri_file", "path": str(elsewhere / "away" / "iris.csv")}}}))
        data, spec_path = bundle_spec_file(spec)
        root = tmp_path / "unpacked"
        extract_snapshot(data, root)

        loaded = load_spec(root / spec_path, root=root)

        assert loaded.inputs["iris"].path.read_text() == "a,b\n1,2\n"
        assert loaded.code == (root / "proj").resolve()


class TestReferencedPaths:
    def test_finds_data_and_model_paths_but_not_remote_ones(self):
        assert referenced_paths({"path": "./iris"}) == [("path", "./iris")]
        for remote in ("azureml://jobs/r1/outputs/artifacts/paths/model/", "azureml:m:1",
                       "wasbs://c@a.blob.core.windows.net/x", "http://h/x"):
            assert referenced_paths({"path": remote}) == []

    def test_finds_deployment_code_and_environment_build(self):
        spec = {"code_configuration": {"code": "./score", "scoring_script": "score.py"},
                "environment": {"build": {"path": "./docker"}}}
        assert [p for _, p in referenced_paths(spec)] == ["./docker", "./score"]


class TestBundleGeneratedSpec:
    def test_copies_the_path_in_under_its_own_name(self, tmp_path, monkeypatch):
        write(tmp_path / "out" / "model.pkl", "pickle")
        monkeypatch.chdir(tmp_path)
        data, spec_path = bundle_generated_spec({"name": "m", "path": "out/model.pkl"})
        assert spec_path == "spec.yml" and names(data) == {"spec.yml", "model.pkl"}
        assert yaml.safe_load(read(data, "spec.yml"))["path"] == "./model.pkl"

    def test_a_remote_path_bundles_the_spec_alone(self):
        uri = "azureml://jobs/run-1/outputs/artifacts/paths/model/"
        data, spec_path = bundle_generated_spec({"name": "m", "path": uri})
        assert names(data) == {"spec.yml"}
        assert yaml.safe_load(read(data, spec_path))["path"] == uri


class TestLinks:
    def test_a_link_out_of_the_code_folder_is_refused_naming_it(self, tmp_path):
        secret = tmp_path / "outside.txt"
        secret.write_text("not for the snapshot")
        (tmp_path / "job" / "src").mkdir(parents=True)
        (tmp_path / "job" / "src" / "train.py").write_text("print(1)\n")
        (tmp_path / "job" / "src" / "notes.txt").symlink_to(secret)
        spec = tmp_path / "job" / "job.yml"
        spec.write_text("command: python train.py\ncode: ./src\n")
        with pytest.raises(CliError, match=r"code holds a link notes.txt that points outside"):
            bundle_spec_file(spec)

    def test_a_link_inside_the_code_folder_is_kept(self, tmp_path):
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "train.py").write_text("print(1)\n")
        (tmp_path / "src" / "alias.py").symlink_to(tmp_path / "src" / "train.py")
        spec = tmp_path / "job.yml"
        spec.write_text("command: python train.py\ncode: ./src\n")
        bundle, _ = bundle_spec_file(spec)
        assert bundle

    def test_inputs_of_a_wrong_shape_are_left_to_the_server(self):
        assert referenced_paths({"inputs": 5, "code": "./src"}) == [("code", "./src")]
