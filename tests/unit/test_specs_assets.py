"""Data, model, compute, endpoint and deployment specs."""
from __future__ import annotations

from shared.specs import (
    AssetRef,
    ComputeSpec,
    DataSpec,
    DeploymentSpec,
    EndpointSpec,
    ModelSpec,
    RunOutputRef,
    load_spec,
)
from tests.unit.spec_files import SPECS, refusal


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
        message = refusal(SPECS / "assets" / "model.yml", overrides=["path=wasbs://c@a.blob.core.windows.net/m"])
        assert "must be a local path or azureml://jobs/<run>/outputs/artifacts/paths/<path>" in message

    def test_a_model_path_in_another_datastore_is_refused(self):
        message = refusal(SPECS / "assets" / "model.yml", overrides=["path=azureml://datastores/ws/paths/m"])
        assert "datastore 'ws' does not exist; this workspace has 'workspaceblobstore'" in message

    def test_a_model_path_in_the_workspace_datastore_converts(self):
        uri = "azureml://datastores/workspaceblobstore/paths/LocalUpload/abc/model"
        spec = load_spec(SPECS / "assets" / "model.yml", overrides=[f"path={uri}"])
        assert spec.path == uri


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

    def test_an_inline_model_that_is_not_there_is_refused(self):
        message = refusal(SPECS / "serving" / "deployment.yml", overrides=["model=null", "model.path=model"])
        assert "model.path 'model' does not exist" in message

    def test_a_scoring_script_without_an_environment_is_refused(self):
        message = refusal(SPECS / "serving" / "deployment.yml", overrides=["code_configuration.code=src"])
        assert "a scoring script needs an environment" in message
