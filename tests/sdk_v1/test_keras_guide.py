"""The Keras and TensorFlow estimator guide of SDK v1, as its code is written, against a
live local host (digits in MNIST's files, CPUs for GPUs): the TensorFlow estimator warns
that it is deprecated, as v1 did, then runs: a Keras script on one node with its pip
packages, Horovod-style over MPI (distributed_backend='mpi'), and parameter servers
(distributed_backend='ps') whose tasks each get their TF_CONFIG."""
import pytest
from azureml.core import Dataset, Experiment
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException
from azureml.train.dnn import TensorFlow

from tests.sdk_v1.runs import SRC, output_reports, waited

pytestmark = pytest.mark.e2e
DEPRECATED = "'TensorFlow' estimator class will be deprecated. Please use 'ScriptRunConfig'"


@pytest.fixture(scope="module")
def exp(ws):
    return Experiment(workspace=ws, name="keras-mnist")


@pytest.fixture(scope="module")
def dataset(ws, digits_folder):
    return Dataset.File.from_files(path=str(digits_folder)).register(
        workspace=ws, name="mnist-keras", create_new_version=True)


@pytest.fixture(scope="module")
def compute_target(ws):
    try:
        return ComputeTarget(workspace=ws, name="gpu-cluster-keras")
    except ComputeTargetException:
        config = AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6", max_nodes=4)
        target = ComputeTarget.create(ws, "gpu-cluster-keras", config)
        target.wait_for_completion(show_output=True)
        return target


def test_a_keras_script_runs_on_one_node_and_registers_its_model(exp, dataset, compute_target):
    script_params = {
        "--data-folder": dataset.as_named_input("mnist").as_mount(),
        "--batch-size": 50,
        "--first-layer-neurons": 300,
        "--second-layer-neurons": 100,
        "--learning-rate": 0.001,
    }
    with pytest.warns(FutureWarning, match=DEPRECATED):
        est = TensorFlow(source_directory=SRC, entry_script="keras_mnist.py",
                         script_params=script_params, compute_target=compute_target,
                         pip_packages=["keras", "azureml-dataprep[pandas,fuse]"],
                         use_gpu=True)
    run = exp.submit(est)
    printed = waited(run)

    assert "test loss" in printed
    metrics = run.get_metrics()
    assert set(metrics) == {"Loss", "Accuracy"} and metrics["Accuracy"] > 0.5
    model = run.register_model(model_name="keras-mnist", model_path="outputs/model")
    assert (model.name, model.version, model.run_id) == ("keras-mnist", 1, run.id)


def test_horovod_over_mpi_starts_a_rank_per_node(exp, dataset, compute_target, tmp_path):
    with pytest.warns(FutureWarning, match=DEPRECATED):
        estimator = TensorFlow(source_directory=SRC, compute_target=compute_target,
                               script_params={"--data-folder": dataset.as_mount()},
                               entry_script="horovod_style.py", node_count=2,
                               process_count_per_node=1, distributed_backend="mpi",
                               use_gpu=True)
    run = exp.submit(estimator)
    waited(run)

    ranks = output_reports(run, "mpi_rank_", tmp_path)
    assert [(r["rank"], r["size"]) for r in ranks] == [(0, 2), (1, 2)]
    assert ranks[0]["checksum"] == pytest.approx(ranks[1]["checksum"])


def test_parameter_servers_and_workers_each_get_their_tf_config(exp, compute_target, tmp_path):
    with pytest.warns(FutureWarning, match=DEPRECATED):
        estimator = TensorFlow(source_directory=SRC, compute_target=compute_target,
                               script_params={}, entry_script="tf_config.py", node_count=2,
                               worker_count=2, parameter_server_count=1,
                               distributed_backend="ps", use_gpu=True)
    run = exp.submit(estimator)
    waited(run)

    configs = output_reports(run, "tf_config_", tmp_path)
    tasks = sorted((c["task"]["type"], c["task"]["index"]) for c in configs)
    assert tasks == [("ps", 0), ("worker", 0), ("worker", 1)]
    assert all(c["cluster"] == configs[0]["cluster"] for c in configs)
    assert run.get_details()["runDefinition"]["nodeCount"] == 2
