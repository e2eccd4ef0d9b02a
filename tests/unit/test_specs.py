"""Azure ML v2 spec files become mlcycle's own types, or a short InvalidSpec: which kind a
file is, its files and local paths, and the references it makes."""
from __future__ import annotations

import os

import pytest

from shared.domain.errors import InvalidSpec
from shared.specs import (
    AssetRef,
    RunOutputRef,
    load_spec,
    parse_asset_ref,
    parse_run_output_ref,
    referenced_paths,
    spec_kind,
)
from tests.unit.spec_files import JOB, MINIMAL_JOB, SPECS, refusal, write


class TestSpecKind:
    @pytest.mark.parametrize(
        "path, kind",
        [
            ("digits/job.yml", "job"),
            ("assets/data.yml", "data"),
            ("assets/model.yml", "model"),
            ("serving/compute.yml", "compute"),
            ("serving/endpoint.yml", "endpoint"),
            ("serving/deployment.yml", "deployment"),
        ],
    )
    def test_a_spec_is_told_by_its_schema(self, path, kind):
        assert spec_kind((SPECS / path).read_text()) == kind

    def test_a_conda_file_in_the_code_folder_is_not_a_spec(self):
        assert spec_kind((SPECS / "digits" / "conda.yml").read_text()) is None

    @pytest.mark.parametrize(
        "text, kind",
        [
            ("command: echo hi\n", "job"),
            ("type: sweep\ntrial: {}\n", "job"),
            ("name: cpu\ntype: amlcompute\n", "compute"),
            ("name: blue\nendpoint_name: digits\nmodel: azureml:m:1\n", "deployment"),
            ("name: d\ntype: uri_file\npath: d.csv\n", "data"),
        ],
    )
    def test_without_a_schema_a_spec_is_told_by_its_keys(self, text, kind):
        assert spec_kind(text) == kind

    @pytest.mark.parametrize(
        "text",
        [
            "on: push\njobs:\n  test: {runs-on: ubuntu-latest}\n",
            "- a\n- b\n",
            "",
            "$schema: https://azuremlschemas.azureedge.net/latest/component.schema.json\nname: e\n",
        ],
    )
    def test_other_yaml_is_not_a_spec(self, text):
        assert spec_kind(text) is None

    def test_text_that_is_not_yaml_is_refused_with_its_line_and_column(self):
        with pytest.raises(InvalidSpec, match=r"invalid YAML at line 2, column 11: mapping values are not allowed"):
            spec_kind("name: x\ncommand: a: b\n")

class TestSpecFiles:
    def test_a_yaml_syntax_error_names_file_line_and_column(self, tmp_path):
        path = write(tmp_path, "job.yml", "command: echo\n  inputs: [\n")
        assert refusal(path) == "job.yml: invalid YAML at line 2, column 9: mapping values are not allowed here"

    def test_a_spec_that_is_not_a_mapping_is_refused(self, tmp_path):
        assert refusal(write(tmp_path, "job.yml", "- command\n")) == "job.yml: a spec is a mapping of fields, not a list"

    def test_an_unknown_kind_of_spec_is_refused(self, tmp_path):
        assert "unknown spec kind" in refusal(write(tmp_path, "x.yml", "name: e\nflavour: python\n"))

    def test_a_spec_of_another_kind_than_expected_is_refused(self):
        assert "expected a job spec, but this is a data spec" in refusal(SPECS / "assets" / "data.yml", kind="job")

    def test_a_huge_file_is_refused(self, tmp_path):
        path = write(tmp_path, "job.yml", MINIMAL_JOB + "# padding\n" * 120_000)
        assert refusal(path) == "job.yml: spec file is larger than the 1 MiB limit for specs"

    def test_a_missing_file_is_refused(self, tmp_path):
        assert refusal(tmp_path / "nope.yml") == "nope.yml: spec file does not exist"


class TestLocalPathsUnderRoot:
    """Dropped specs and CLI bundles may only name files inside their root."""

    @pytest.fixture
    def root(self, tmp_path):
        root = tmp_path / "drop"
        write(root, "src/train.py", "")
        write(tmp_path, "outside/secret.csv", "secret")
        return root

    def test_a_code_path_outside_the_root_is_refused(self, root):
        path = write(root, "job.yml", MINIMAL_JOB + "code: ../outside\n")
        assert refusal(path, root=root) == "job.yml: code path '../outside' is outside the spec's folder"

    def test_a_symlink_out_of_the_root_is_refused(self, root):
        os.symlink(root.parent / "outside", root / "linked")
        path = write(root, "job.yml", MINIMAL_JOB + "code: linked\n")
        assert "code path 'linked' is outside the spec's folder" in refusal(path, root=root)

    def test_a_symlink_inside_the_code_folder_pointing_out_is_refused(self, root):
        os.symlink(root.parent / "outside" / "secret.csv", root / "src" / "data.csv")
        path = write(root, "job.yml", MINIMAL_JOB + "code: src\n")
        assert "holds a link 'data.csv' that points outside the spec's folder" in refusal(path, root=root)

    def test_an_input_outside_the_root_is_refused(self, root):
        spec = MINIMAL_JOB + "inputs:\n  data: {type: uri_file, path: ../outside/secret.csv}\n"
        assert "inputs.data path '../outside/secret.csv' is outside" in refusal(write(root, "job.yml", spec), root=root)

    def test_a_conda_file_outside_the_root_is_refused_before_it_is_read(self, root):
        spec = "command: echo\nenvironment: {image: python, conda_file: ../outside/secret.csv}\n"
        assert "environment.conda_file '../outside/secret.csv' is outside" in refusal(
            write(root, "job.yml", spec), root=root
        )

    def test_a_data_path_outside_the_root_is_refused(self, root):
        spec = "name: d\ntype: uri_file\npath: ../outside/secret.csv\n"
        assert "data path '../outside/secret.csv' is outside" in refusal(write(root, "data.yml", spec), root=root)

    def test_a_file_reference_is_refused_before_it_is_read(self, root):
        path = write(root, "job.yml", MINIMAL_JOB + "distribution: file:../outside/secret.csv\n")
        assert refusal(path, root=root) == (
            "job.yml: distribution: 'file:' references are not supported; write the content in the spec"
        )

    def test_paths_inside_the_root_are_accepted(self, root):
        path = write(root, "nested/job.yml", MINIMAL_JOB + "code: ../src\n")
        assert load_spec(path, root=root).code == (root / "src").resolve()

    def test_messages_name_the_file_relative_to_the_root(self, root):
        path = write(root, "nested/job.yml", MINIMAL_JOB + "code: ../../outside\n")
        assert refusal(path, root=root).startswith("nested/job.yml: code path")

class TestReferences:
    @pytest.mark.parametrize(
        "text, ref",
        [
            ("azureml:digits:2", AssetRef("digits", version="2")),
            ("azureml:digits@latest", AssetRef("digits", label="latest")),
            ("digits:2", AssetRef("digits", version="2")),
            ("azureml://registries/azureml/models/digits/versions/4", AssetRef("digits", version="4")),
        ],
    )
    def test_asset_references_parse(self, text, ref):
        assert parse_asset_ref(text) == ref

    def test_a_bare_asset_name_is_refused(self):
        with pytest.raises(InvalidSpec, match="is not an asset reference"):
            parse_asset_ref("azureml:digits")

    def test_a_run_output_path_climbing_out_is_refused(self):
        assert parse_run_output_ref("azureml://jobs/r1/outputs/artifacts/paths/a/b.pkl") == RunOutputRef("r1", "a/b.pkl")
        with pytest.raises(InvalidSpec, match="unsafe"):
            parse_run_output_ref("azureml://jobs/r1/outputs/artifacts/paths/../../etc")

    def test_a_named_output_of_a_run_is_read_with_its_path(self):
        assert parse_run_output_ref("azureml://jobs/r1/outputs/model_dir/paths/m.pkl") \
            == RunOutputRef("r1", "m.pkl", "model_dir")
        assert parse_run_output_ref("azureml://jobs/r1/outputs/model_dir") \
            == RunOutputRef("r1", "", "model_dir")
        with pytest.raises(InvalidSpec, match="unsafe"):
            parse_run_output_ref("azureml://jobs/r1/outputs/../paths/x")


class TestReferencedPaths:
    def test_a_job_references_its_code_local_inputs_and_conda_file(self):
        spec = load_spec(JOB, overrides=["environment=null", "environment.image=python", "environment.conda_file=conda.yml"])
        digits = JOB.parent.resolve()
        assert referenced_paths(spec) == [digits / "src", digits / "data" / "digits.csv", digits / "conda.yml"]

    def test_a_data_spec_references_its_local_path_only(self):
        assert referenced_paths(load_spec(SPECS / "assets" / "data.yml")) == [(SPECS / "assets" / "digits.csv").resolve()]
        assert referenced_paths(load_spec(SPECS / "assets" / "datastore-data.yml")) == []

    def test_a_model_from_a_run_references_nothing_local(self):
        assert referenced_paths(load_spec(SPECS / "assets" / "model.yml")) == []
