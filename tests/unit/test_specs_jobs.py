"""Command job specs: what they become, what `--set` overrides, and what is refused."""
from __future__ import annotations


import pytest

from shared.specs import (
    AssetRef,
    InputSpec,
    JobSpec,
    OutputSpec,
    load_spec,
)
from tests.unit.spec_files import JOB, MINIMAL_JOB, refusal, write


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

    def test_pipeline_jobs_are_refused_for_now(self):
        assert "only command and sweep jobs are supported" in refusal(
            JOB, overrides=["type=pipeline"])

    def test_a_command_job_schema_with_a_sweep_type_is_refused_naming_the_mismatch(self):
        # Sweeps are read (test_specs_sweeps.py), but only under their own schema.
        assert "type 'sweep' does not match $schema" in refusal(JOB, overrides=["type=sweep"])

    @pytest.mark.parametrize("job_type, named", [("automl", "an AutoML job"),
                                                  ("pipeline", "a pipeline job"),
                                                  ("impossible", "an impossible job")])
    def test_a_refused_job_type_is_named_in_english(self, job_type, named):
        assert f"(this is {named})" in refusal(JOB, overrides=[f"type={job_type}"])

    def test_a_run_name_that_could_climb_folders_is_refused(self):
        assert "name: '../x' may hold only" in refusal(JOB, overrides=["name=../x"])
