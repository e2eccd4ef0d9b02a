"""What a v1 submission becomes, without a host: the Azure ML v2 command job each
ScriptRunConfig and estimator stands for, loaded back with mlcycle's own spec loader
(azure-ai-ml's official schema), so every generated spec is one `mlcycle job create`
would take."""
from contextlib import ExitStack

import pytest
import yaml
from azureml.core import Environment, ScriptRunConfig
from azureml.core.runconfig import (MpiConfiguration, PyTorchConfiguration,
                                    TensorflowConfiguration)
from azureml.data import FileDataset
from azureml.exceptions import UserErrorException
from azureml.train.dnn import Mpi, PyTorch, TensorFlow
from azureml.train.sklearn import SKLearn

from shared.specs.load import load_spec
from tests.sdk_v1.runs import SRC

CURATED = Environment("AzureML-sklearn-1.0")
CURATED._curated = True
DIGITS = FileDataset(name="digits", version="3")


def loaded(config, tmp_path, tags=None):
    """(the v2 spec dict, the JobSpec mlcycle loads from it)."""
    with ExitStack() as stack:
        spec = config._spec("exp", tags, stack)
        (tmp_path / "job.yml").write_text(yaml.safe_dump(spec))
        return spec, load_spec(tmp_path / "job.yml", kind="job")


def test_a_script_with_arguments_and_a_named_dataset_is_a_command_job(tmp_path):
    src = ScriptRunConfig(SRC, script="train_sklearn.py", environment=CURATED,
                          arguments=["--data-folder", DIGITS.as_named_input("digits").as_mount(),
                                     "--regularization", 0.5, "--name", "two words"],
                          compute_target="cpu-cluster")
    spec, job = loaded(src, tmp_path, tags={"team": "v1"})

    assert job.command == ("python train_sklearn.py --data-folder ${{inputs.digits}} "
                           "--regularization 0.5 --name 'two words'")
    assert spec["inputs"] == {"digits": {"type": "uri_folder", "path": "azureml:digits:3",
                                         "mode": "ro_mount"}}
    assert (job.code, job.compute, job.experiment_name) == (SRC, "cpu-cluster", "exp")
    assert job.environment == "AzureML-sklearn-1.0@latest"
    assert (job.instance_count, job.distribution, job.tags) == (1, None, {"team": "v1"})


@pytest.mark.parametrize("distributed, nodes, distribution", [
    (MpiConfiguration(process_count_per_node=2, node_count=2), 2,
     {"type": "mpi", "process_count_per_instance": 2}),
    (TensorflowConfiguration(worker_count=2, parameter_server_count=1), 3,
     {"type": "tensorflow", "worker_count": 2, "parameter_server_count": 1}),
    (PyTorchConfiguration(process_count=4, node_count=2), 2,
     {"type": "pytorch", "process_count_per_instance": 2}),
    (PyTorchConfiguration(node_count=2), 2, {"type": "pytorch", "process_count_per_instance": 1}),
])
def test_each_distributed_job_config_is_its_v2_distribution(distributed, nodes, distribution,
                                                            tmp_path):
    src = ScriptRunConfig(SRC, script="pytorch_ddp.py", environment=CURATED,
                          distributed_job_config=distributed)
    spec, job = loaded(src, tmp_path)

    assert spec["resources"] == {"instance_count": nodes}
    assert {k: v for k, v in spec["distribution"].items()} == distribution
    assert job.instance_count == nodes


def test_a_process_count_that_does_not_split_over_the_nodes_is_refused():
    with pytest.raises(UserErrorException, match="not a multiple of node_count 2"):
        ScriptRunConfig(SRC, script="pytorch_ddp.py",
                        distributed_job_config=PyTorchConfiguration(process_count=3,
                                                                     node_count=2))


def test_a_per_node_launcher_command_keeps_its_shell_variables(tmp_path):
    launch_cmd = ("python -m torch.distributed.launch --nproc_per_node 2 --nnodes 2 "
                  "--node_rank $NODE_RANK --master_addr $MASTER_ADDR --master_port "
                  "$MASTER_PORT --use_env pytorch_ddp.py").split()
    src = ScriptRunConfig(SRC, command=launch_cmd, environment=CURATED,
                          distributed_job_config=PyTorchConfiguration(node_count=2))
    _, job = loaded(src, tmp_path)

    assert job.command == " ".join(launch_cmd)


def test_a_conda_environment_runs_over_the_host_and_installs_its_packages_but_not_azureml(
        tmp_path):
    conda = tmp_path / "conda.yml"
    conda.write_text("dependencies:\n- python=3.8\n- numpy=1.26\n- pip:\n"
                     "  - azureml-defaults\n  - azureml-dataprep[fuse]\n  - scikit-learn\n")
    env = Environment.from_conda_specification("sk", str(conda))
    env.docker.base_image = "example.azurecr.io/sklearn:1"
    _, job = loaded(ScriptRunConfig(SRC, script="local_train.py", environment=env), tmp_path)

    assert (job.environment, job.environment_image) == ("inline", "example.azurecr.io/sklearn:1")
    assert job.command == ("python -m pip install --disable-pip-version-check -q "
                           "scikit-learn 'numpy==1.26.*' && python local_train.py")
    assert job.environment_variables == {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"}


def test_a_user_managed_environment_runs_its_interpreter_and_installs_nothing(tmp_path):
    env = Environment("mine")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = "/opt/my env/bin/python"
    _, job = loaded(ScriptRunConfig(SRC, script="local_train.py", environment=env), tmp_path)

    assert job.command == "'/opt/my env/bin/python' local_train.py"


def test_a_missing_script_is_refused_before_anything_is_sent(tmp_path):
    with pytest.raises(UserErrorException, match="script nope.py is not in source_directory"):
        loaded(ScriptRunConfig(SRC, script="nope.py"), tmp_path)


def test_the_estimators_warn_like_v1_then_stand_for_their_script_run_config(tmp_path):
    with pytest.warns(FutureWarning, match="'TensorFlow' estimator class will be deprecated"
                                           ".*AzureML-TensorFlow-2.4-CPU curated environment"):
        estimator = TensorFlow(SRC, entry_script="tf_config.py", framework_version="2.4",
                               script_params={"--verbose": "", "--steps": 3}, node_count=2,
                               worker_count=2, parameter_server_count=1,
                               distributed_backend="ps", pip_packages=["keras"],
                               environment_variables={"TF_CPP_MIN_LOG_LEVEL": "2"})
    spec, job = loaded(estimator, tmp_path)

    assert job.environment == "AzureML-TensorFlow-2.4-CPU@latest"
    assert job.command == ("python -m pip install --disable-pip-version-check -q keras && "
                           "python tf_config.py --verbose --steps 3")
    assert (job.instance_count, spec["distribution"]["type"]) == (2, "tensorflow")
    assert job.environment_variables == {"TF_CPP_MIN_LOG_LEVEL": "2"}


def test_pytorch_and_sklearn_estimators_pick_their_curated_environments(tmp_path):
    with pytest.warns(FutureWarning):
        torch_mpi = PyTorch(SRC, entry_script="pytorch_ddp.py", use_gpu=True, node_count=2,
                            process_count_per_node=2, distributed_training=Mpi())
        sklearn = SKLearn(SRC, entry_script="train_sklearn.py", compute_target="cpu")
    spec, job = loaded(torch_mpi, tmp_path)
    assert job.environment == "AzureML-PyTorch-1.6-GPU@latest"
    assert (job.instance_count, spec["distribution"]) == (2, {
        "type": "mpi", "process_count_per_instance": 2})
    _, job = loaded(sklearn, tmp_path)
    assert (job.environment, job.compute) == ("AzureML-Scikit-learn-0.20.3@latest", "cpu")


def test_an_estimator_with_a_run_made_compute_is_refused():
    with pytest.raises(UserErrorException, match="vm_size without compute_target"), \
            pytest.warns(FutureWarning):
        SKLearn(SRC, entry_script="train_sklearn.py", vm_size="STANDARD_D2_V2")
