"""Azure ML v2 spec files become mlcycle's own types, or a short InvalidSpec."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.domain.errors import InvalidSpec
from shared.specs import (
    AssetRef,
    ComputeSpec,
    DataSpec,
    DeploymentSpec,
    EndpointSpec,
    InputSpec,
    JobSpec,
    ModelSpec,
    OutputSpec,
    RunOutputRef,
    load_spec,
    parse_asset_ref,
    parse_run_output_ref,
    referenced_paths,
    spec_kind,
)

SPECS = Path(__file__).parent / "specs"
JOB = SPECS / "digits" / "job.yml"
MINIMAL_JOB = "command: python train.py\nenvironment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def refusal(path: Path, **kw) -> str:
    with pytest.raises(InvalidSpec) as caught:
        load_spec(path, **kw)
    return str(caught.value)


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
            "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\nname: e\n",
        ],
    )
    def test_other_yaml_is_not_a_spec(self, text):
        assert spec_kind(text) is None

    def test_text_that_is_not_yaml_is_refused_with_its_line_and_column(self):
        with pytest.raises(InvalidSpec, match=r"invalid YAML at line 2, column 11: mapping values are not allowed"):
            spec_kind("name: x\ncommand: a: b\n")


class TestCommandJob:
    def test_a_realistic_job_converts_to_a_job_spec(self):
        digits = JOB.parent.resolve()
        assert load_spec(JOB) == JobSpec(
            source=digits / "job.yml",
            command=(
                "python train.py --data ${{inputs.training_data}} --images ${{inputs.digits}}"
                " --lr ${{inputs.lr}} --model-dir ${{outputs.model_dir}}"
            ),
            code=digits / "src",
            environment="AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest",
            environment_image=None,
            environment_conda=None,
            compute="gpu-cluster",
            instance_count=2,
            distribution={"type": "pytorch", "process_count_per_instance": 4},
            timeout_s=7200.0,
            inputs={
                "training_data": InputSpec("local", path=digits / "data" / "digits.csv", type="uri_file"),
                "digits": InputSpec("asset", asset=AssetRef("digits", label="latest"), type="uri_folder"),
                "digits_v2": InputSpec(
                    "asset", asset=AssetRef("digits", version="2"), type="uri_folder", mode="download"
                ),
                "lr": InputSpec("literal", value=0.01, type="number"),
            },
            outputs={"model_dir": OutputSpec(type="uri_folder", mode="rw_mount")},
            name=None,
            display_name="train digits",
            experiment_name="digits-classifier",
            description="Trains a digits classifier.",
            tags={"team": "vision"},
        )

    def test_a_minimal_job_takes_azure_ml_defaults(self, tmp_path):
        spec = load_spec(write(tmp_path / "my-project", "job.yml", MINIMAL_JOB))
        assert (spec.compute, spec.instance_count, spec.distribution, spec.timeout_s) == ("local", 1, None, None)
        assert (spec.code, spec.inputs, spec.outputs, spec.tags) == (None, {}, {}, {})
        assert spec.experiment_name == "my-project"

    def test_a_job_at_the_top_of_its_root_runs_in_the_default_experiment(self, tmp_path):
        assert load_spec(write(tmp_path, "job.yml", MINIMAL_JOB), root=tmp_path).experiment_name == "Default"

    def test_tensorflow_distribution_defaults_workers_to_the_instance_count(self):
        spec = load_spec(JOB, overrides=["distribution=null", "distribution.type=tensorflow"])
        assert spec.distribution == {"type": "tensorflow", "worker_count": 2, "parameter_server_count": 0}

    def test_mpi_distribution_keeps_its_process_count(self):
        spec = load_spec(JOB, overrides=["distribution.type=mpi"])
        assert spec.distribution == {"type": "mpi", "process_count_per_instance": 4}

    def test_an_inline_environment_keeps_its_image_and_conda_file_contents(self):
        spec = load_spec(
            JOB, overrides=["environment=null", "environment.image=python:3.11-slim", "environment.conda_file=conda.yml"]
        )
        assert (spec.environment, spec.environment_image) == ("inline", "python:3.11-slim")
        assert spec.environment_conda["dependencies"] == ["python=3.11", "scikit-learn"]
        assert spec.environment_conda_file == (JOB.parent / "conda.yml").resolve()

    def test_a_registry_environment_is_named_by_name_and_label(self):
        spec = load_spec(JOB, overrides=["environment=azureml://registries/azureml/environments/sklearn-1.5/labels/latest"])
        assert spec.environment == "sklearn-1.5@latest"

    def test_typed_literal_inputs_keep_their_type(self):
        spec = load_spec(JOB, overrides=["inputs.epochs.type=integer", "inputs.epochs.default=5"])
        assert spec.inputs["epochs"] == InputSpec("literal", value=5, type="integer")

    def test_a_datastore_input_is_kept_as_a_uri(self):
        uri = "azureml://datastores/workspaceblobstore/paths/digits/"
        spec = load_spec(JOB, overrides=["inputs.digits.path=" + uri])
        assert spec.inputs["digits"] == InputSpec("uri", value=uri, type="uri_folder")


class TestCommandJobOverrides:
    def test_set_overrides_apply_like_az_ml_set(self):
        spec = load_spec(
            JOB,
            overrides=[
                "inputs.lr=0.2",
                "resources.instance_count=3",
                "display_name=second try",
                "compute=azureml:cpu-cluster",
                "tags.owner=ana",
            ],
        )
        assert spec.inputs["lr"] == InputSpec("literal", value=0.2, type="number")
        assert (spec.instance_count, spec.display_name, spec.compute) == (3, "second try", "cpu-cluster")
        assert spec.tags == {"team": "vision", "owner": "ana"}

    def test_an_override_without_a_value_is_refused(self):
        assert refusal(JOB, overrides=["display_name"]) == "job.yml: override 'display_name' is not key.sub=value"

    def test_an_override_through_a_scalar_is_refused(self):
        assert "'command' is not a mapping" in refusal(JOB, overrides=["command.x=1"])


class TestCommandJobRefusals:
    def test_an_unknown_field_is_named(self):
        assert refusal(JOB, overrides=["bogus_field=1"]) == "job.yml: bogus_field: unknown field"

    def test_an_unknown_distribution_type_lists_the_supported_ones(self):
        assert refusal(JOB, overrides=["distribution.type=horovodx"]) == (
            "job.yml: distribution.type: 'horovodx' is not one of pytorch, tensorflow, mpi"
        )

    def test_an_unknown_field_in_the_distribution_is_named(self):
        assert refusal(JOB, overrides=["distribution.bogus=1"]) == "job.yml: distribution.bogus: unknown field"

    def test_a_value_of_the_wrong_type_is_named(self):
        assert refusal(JOB, overrides=["resources.instance_count=two"]) == (
            "job.yml: resources.instance_count: not a valid integer"
        )

    def test_an_unknown_input_type_lists_the_known_ones(self):
        message = refusal(JOB, overrides=["inputs.training_data.type=csv"])
        assert message.startswith("job.yml: inputs.training_data.type: 'csv' is not one of uri_file, uri_folder")

    def test_a_typed_literal_of_another_type_is_refused(self):
        message = refusal(JOB, overrides=["inputs.epochs.type=integer", "inputs.epochs.default=many"])
        assert message == "job.yml: inputs.epochs: 'many' is not a valid integer"

    def test_fewer_than_one_instance_is_refused(self):
        assert refusal(JOB, overrides=["resources.instance_count=0"]) == (
            "job.yml: resources.instance_count must be at least 1, not 0"
        )

    def test_fewer_than_one_process_per_instance_is_refused(self):
        assert "process_count_per_instance must be at least 1" in refusal(
            JOB, overrides=["distribution.process_count_per_instance=0"]
        )

    def test_an_undefined_input_in_the_command_is_named(self):
        message = refusal(JOB, overrides=["command=python train.py --epochs ${{inputs.epochs}}"])
        assert message == "job.yml: command uses ${{inputs.epochs}} but the spec defines no input 'epochs'"

    def test_an_undefined_output_in_the_command_is_named(self):
        message = refusal(JOB, overrides=["command=python train.py --out ${{outputs.checkpoints}}"])
        assert "defines no output 'checkpoints'" in message

    def test_a_missing_code_folder_is_named(self):
        assert refusal(JOB, overrides=["code=./source"]) == "job.yml: code path './source' does not exist"

    def test_a_missing_local_input_is_named(self):
        message = refusal(JOB, overrides=["inputs.training_data.path=./data/missing.csv"])
        assert message == "job.yml: inputs.training_data path './data/missing.csv' does not exist"

    def test_a_folder_given_for_a_uri_file_input_is_refused(self):
        assert "is a folder, but the input is a uri_file" in refusal(JOB, overrides=["inputs.training_data.path=data"])

    def test_an_asset_input_without_version_or_label_is_refused(self):
        assert "use azureml:<name>:<version> or azureml:<name>@latest" in refusal(
            JOB, overrides=["inputs.digits.path=azureml:digits"]
        )

    def test_an_environment_without_azureml_prefix_is_refused(self):
        assert "must be azureml:<name>@latest" in refusal(JOB, overrides=["environment=AzureML-sklearn@latest"])

    @pytest.mark.parametrize("job_type", ["sweep", "pipeline"])
    def test_sweep_and_pipeline_jobs_are_refused_for_now(self, job_type):
        assert "only command jobs are supported" in refusal(JOB, overrides=[f"type={job_type}"])

    def test_a_run_name_that_could_climb_folders_is_refused(self):
        assert "name: '../x' may hold only" in refusal(JOB, overrides=["name=../x"])


class TestSpecFiles:
    def test_a_yaml_syntax_error_names_file_line_and_column(self, tmp_path):
        path = write(tmp_path, "job.yml", "command: echo\n  inputs: [\n")
        assert refusal(path) == "job.yml: invalid YAML at line 2, column 9: mapping values are not allowed here"

    def test_a_spec_that_is_not_a_mapping_is_refused(self, tmp_path):
        assert refusal(write(tmp_path, "job.yml", "- command\n")) == "job.yml: a spec is a mapping of fields, not a list"

    def test_an_unknown_kind_of_spec_is_refused(self, tmp_path):
        assert "unknown spec kind" in refusal(write(tmp_path, "env.yml", "name: e\nimage: python\n"))

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


class TestDataSpec:
    def test_a_local_data_spec_converts(self):
        assert load_spec(SPECS / "assets" / "data.yml") == DataSpec(
            source=(SPECS / "assets" / "data.yml").resolve(),
            name="digits",
            version="2",
            type="uri_file",
            path=(SPECS / "assets" / "digits.csv").resolve(),
            description="Handwritten digits, 8x8.",
            tags={"source": "scikit-learn"},
        )

    def test_a_datastore_path_is_kept_as_text(self):
        spec = load_spec(SPECS / "assets" / "datastore-data.yml")
        assert (spec.path, spec.type, spec.version) == (
            "azureml://datastores/workspaceblobstore/paths/digits/",
            "uri_folder",
            None,
        )

    def test_a_missing_data_path_is_named(self):
        assert "data path './gone.csv' does not exist" in refusal(
            SPECS / "assets" / "data.yml", overrides=["path=./gone.csv"]
        )


class TestModelSpec:
    def test_a_model_from_a_run_output_converts(self):
        assert load_spec(SPECS / "assets" / "model.yml") == ModelSpec(
            source=(SPECS / "assets" / "model.yml").resolve(),
            name="digits-classifier",
            version="3",
            type="custom_model",
            path=RunOutputRef("keen_lemon_4h2xq", "model"),
            description="Digits classifier from run keen_lemon_4h2xq.",
            tags={"framework": "ScikitLearn", "framework_version": "1.3.2"},
            properties={"sample_input": "[[0.0, 16.0]]"},
        )

    def test_a_local_model_folder_converts(self):
        spec = load_spec(SPECS / "assets" / "local-model.yml")
        assert (spec.path, spec.version, spec.type) == ((SPECS / "assets" / "model").resolve(), None, "custom_model")

    def test_a_model_path_elsewhere_is_refused(self):
        message = refusal(SPECS / "assets" / "model.yml", overrides=["path=azureml://datastores/ws/paths/m"])
        assert "must be a local path or azureml://jobs/<run>/outputs/artifacts/paths/<path>" in message


class TestComputeSpec:
    def test_an_aml_compute_converts(self):
        assert load_spec(SPECS / "serving" / "compute.yml") == ComputeSpec(
            source=(SPECS / "serving" / "compute.yml").resolve(),
            name="gpu-cluster",
            type="amlcompute",
            size="STANDARD_NC6s_v3",
            min_instances=0,
            max_instances=4,
            idle_time_before_scale_down=300,
            tier="low_priority",
        )

    def test_a_minimum_above_the_maximum_is_refused(self):
        assert "must satisfy 0 <= min <= max" in refusal(SPECS / "serving" / "compute.yml", overrides=["min_instances=5"])

    def test_an_unknown_tier_lists_the_known_ones(self):
        assert "tier: 'cheap' is not one of low_priority, dedicated" in refusal(
            SPECS / "serving" / "compute.yml", overrides=["tier=cheap"]
        )


class TestEndpointSpec:
    def test_a_managed_online_endpoint_converts(self):
        assert load_spec(SPECS / "serving" / "endpoint.yml") == EndpointSpec(
            source=(SPECS / "serving" / "endpoint.yml").resolve(),
            name="digits",
            auth_mode="key",
            description="Scores digits.",
            tags={"team": "vision"},
        )


class TestDeploymentSpec:
    def test_a_deployment_following_the_latest_model_converts(self):
        assert load_spec(SPECS / "serving" / "deployment.yml") == DeploymentSpec(
            source=(SPECS / "serving" / "deployment.yml").resolve(),
            name="blue",
            endpoint_name="digits",
            model=AssetRef("digits-classifier", label="latest"),
            instance_type="Standard_DS3_v2",
            instance_count=2,
        )

    def test_a_pinned_model_version_converts(self):
        spec = load_spec(SPECS / "serving" / "deployment.yml", overrides=["model=azureml:digits-classifier:3"])
        assert spec.model == AssetRef("digits-classifier", version="3")

    def test_an_inline_model_is_refused(self):
        message = refusal(SPECS / "serving" / "deployment.yml", overrides=["model=null", "model.path=model"])
        assert "register the model first" in message

    def test_a_scoring_script_is_refused(self):
        message = refusal(SPECS / "serving" / "deployment.yml", overrides=["code_configuration.code=src"])
        assert "code_configuration is not supported" in message


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
