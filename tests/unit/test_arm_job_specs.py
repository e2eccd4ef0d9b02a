"""A job as azure-ai-ml sends it, read as the Azure ML v2 YAML it stands for."""
import pytest

from shared.api.replies import BadRequest
from shared.arm.job_specs import duration_seconds, environment_ref, job_document

SCOPE = ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices"
         "/workspaces/mlcycle")


def props(**extra) -> dict:
    return {"jobType": "Command", "command": "python train.py",
            "environmentId": "azureml:AzureML-sklearn-1.5@latest", **extra}


def test_a_plain_command_job_becomes_its_yaml():
    doc = job_document("j1", props(displayName="d", experimentName="e", tags={"a": 1}))
    assert doc["type"] == "command" and doc["name"] == "j1"
    assert (doc["display_name"], doc["experiment_name"], doc["tags"]) == ("d", "e", {"a": "1"})
    assert doc["environment"] == "azureml:AzureML-sklearn-1.5@latest"
    assert "code" not in doc and "compute" not in doc


def test_without_an_experiment_the_job_goes_to_default():
    assert job_document("j", props())["experiment_name"] == "Default"


@pytest.mark.parametrize("given, expected", [
    ({"distributionType": "PyTorch", "processCountPerInstance": 2},
     {"type": "pytorch", "process_count_per_instance": 2}),
    ({"distributionType": "TensorFlow", "workerCount": 2, "parameterServerCount": 1},
     {"type": "tensorflow", "worker_count": 2, "parameter_server_count": 1}),
    ({"distributionType": "Mpi", "processCountPerInstance": 3},
     {"type": "mpi", "process_count_per_instance": 3}),
])
def test_each_distribution_is_read_with_its_counts(given, expected):
    doc = job_document("j", props(distribution=given, resources={"instanceCount": 2}))
    assert doc["distribution"] == expected and doc["resources"] == {"instance_count": 2}


def test_inputs_outputs_compute_and_limits_are_read():
    doc = job_document("j", props(
        computeId=f"{SCOPE}/computes/cpu-cluster", limits={"timeout": "PT1H30M"},
        inputs={"lr": {"jobInputType": "literal", "value": "0.1"},
                "data": {"jobInputType": "uri_folder", "mode": "ReadOnlyMount",
                         "uri": f"azureml:{SCOPE}/data/digits/versions/3"},
                "file": {"jobInputType": "uri_file",
                         "uri": "azureml://datastores/workspaceblobstore/paths/a/b.csv"}},
        outputs={"model": {"jobOutputType": "uri_folder", "mode": "ReadWriteMount"}}))
    assert doc["compute"] == "azureml:cpu-cluster"
    assert doc["limits"] == {"timeout": 5400}
    assert doc["inputs"]["lr"] == "0.1"
    assert doc["inputs"]["data"] == {"type": "uri_folder", "path": "azureml:digits:3",
                                     "mode": "ro_mount"}
    assert doc["inputs"]["file"]["path"] == "azureml://datastores/workspaceblobstore/paths/a/b.csv"
    assert doc["outputs"] == {"model": {"type": "uri_folder", "mode": "rw_mount"}}


def test_an_environment_id_becomes_a_reference():
    assert environment_ref(f"azureml:{SCOPE}/environments/my-env/versions/4") == "azureml:my-env:4"
    assert environment_ref("azureml://registries/azureml/environments/sklearn-1.5/labels/latest") \
        == "azureml:sklearn-1.5@latest"
    assert environment_ref("AzureML-minimal@latest") == "azureml:AzureML-minimal@latest"


@pytest.mark.parametrize("change, words", [
    ({"jobType": "Sweep"}, "a sweep job needs properties.trial"),  # see test_arm_sweeps
    ({"jobType": "Pipeline"}, "Pipeline jobs are not supported"),
    ({"command": ""}, "needs properties.command"),
    ({"environmentId": None}, "needs an environment"),
    ({"distribution": {"distributionType": "Ray"}}, "is not one of PyTorch, TensorFlow, Mpi"),
    ({"limits": {"timeout": "an hour"}}, "not an ISO 8601 duration"),
    ({"inputs": {"x": {"jobInputType": "uri_file"}}}, "neither a value nor a uri"),
])
def test_what_a_command_job_cannot_be_is_refused_by_name(change, words):
    with pytest.raises(BadRequest, match=words):
        job_document("j", props(**change))


def test_durations_are_whole_seconds():
    assert duration_seconds("P1DT2H3M4S") == 93784 and duration_seconds("PT0.5S") == 0
