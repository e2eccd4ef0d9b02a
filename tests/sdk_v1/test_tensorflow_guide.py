"""The TensorFlow guide of SDK v1 ("Train TensorFlow models at scale"), as its code is
written, against a live local host: local files in place of MNIST's URLs, digits in place
of MNIST, CPUs in place of GPUs. A dataset registered from files, a compute cluster found
or created, a curated environment, a ScriptRunConfig submitted and streamed, the model
registered and downloaded, Horovod-style MPI and parameter-server distribution, and a
no-code deployment that scores as the trained model predicts."""
import json
import urllib.request

import numpy as np
import pytest
from azureml.core import Dataset, Environment, Experiment, Model, ScriptRunConfig
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException
from azureml.core.resource_configuration import ResourceConfiguration
from azureml.core.runconfig import MpiConfiguration, TensorflowConfiguration
from azureml.core.webservice import Webservice
from azureml.exceptions import UserErrorException, WebserviceException

from tests.sdk_v1.runs import SRC, output_reports, waited

pytestmark = pytest.mark.e2e
FILES = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
         "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


@pytest.fixture(scope="module")
def dataset(ws, digits_folder):
    web_paths = [str(digits_folder / name) for name in FILES]  # the guide's URLs, downloaded
    dataset = Dataset.File.from_files(path=web_paths)
    return dataset.register(workspace=ws, name="mnist-dataset",
                            description="training and test dataset", create_new_version=True)


@pytest.fixture(scope="module")
def compute_target(ws):
    cluster_name = "gpu-cluster"
    try:
        compute_target = ComputeTarget(workspace=ws, name=cluster_name)
        print("Found existing compute target")
    except ComputeTargetException:
        print("Creating a new compute target...")
        compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6",
                                                               max_nodes=4)
        compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
        compute_target.wait_for_completion(show_output=True, min_node_count=None,
                                           timeout_in_minutes=20)
    return compute_target


@pytest.fixture(scope="module")
def tf_env(ws):
    return Environment.get(workspace=ws, name="AzureML-TensorFlow-2.2-GPU")


@pytest.fixture(scope="module")
def trained(ws, dataset, compute_target, tf_env):
    args = ["--data-folder", dataset.as_mount(), "--batch-size", 64,
            "--first-layer-neurons", 256, "--second-layer-neurons", 128,
            "--learning-rate", 0.01]
    src = ScriptRunConfig(source_directory=SRC, script="tf_mnist.py", arguments=args,
                          compute_target=compute_target, environment=tf_env)
    run = Experiment(workspace=ws, name="Tutorial-TF-Mnist").submit(src)
    return run, waited(run)


@pytest.fixture(scope="module")
def registered(trained):
    run, _ = trained
    run.register_model(model_name="tf-mnist", model_path="outputs/model")
    return run.register_model(model_name="tf-mnist", model_path="outputs/model",
                              model_framework=Model.Framework.TENSORFLOW,
                              model_framework_version="2.0",
                              resource_configuration=ResourceConfiguration(cpu=1,
                                                                           memory_in_gb=0.5))


def test_the_files_are_registered_as_a_versioned_dataset(ws, dataset):
    assert dataset.to_path() == ["/" + name for name in FILES]
    again = Dataset.get_by_name(ws, name="mnist-dataset")
    assert (again.name, again.version) == ("mnist-dataset", dataset.version)
    newer = Dataset.File.from_files(path=str(SRC / "utils.py")).register(
        ws, "mnist-dataset", create_new_version=True)
    assert int(newer.version) == int(dataset.version) + 1


def test_the_guides_web_urls_are_refused_with_a_clear_error():
    with pytest.raises(UserErrorException, match="web URL.*fetches nothing from the web"):
        Dataset.File.from_files(path=["http://yann.lecun.com/exdb/mnist/"
                                      "train-images-idx3-ubyte.gz"])


def test_a_missing_cluster_raises_and_the_created_one_is_found_again(ws, compute_target):
    with pytest.raises(ComputeTargetException, match="not found"):
        ComputeTarget(workspace=ws, name="no-such-cluster")
    found = ComputeTarget(workspace=ws, name="gpu-cluster")
    assert isinstance(found, AmlCompute) and found.name == compute_target.name
    assert found.get_status().scale_settings["maxNodeCount"] == 4
    assert "gpu-cluster" in ws.compute_targets


def test_the_curated_environment_saves_and_a_conda_one_reads_its_file(ws, tf_env, tmp_path):
    tf_env.save_to_directory(path=str(tmp_path / "AzureML-TensorFlow-2.2-GPU"))
    saved = Environment.load_from_directory(str(tmp_path / "AzureML-TensorFlow-2.2-GPU"))
    assert saved.name == "AzureML-TensorFlow-2.2-GPU"
    (tmp_path / "conda_dependencies.yml").write_text(
        "channels: [conda-forge]\ndependencies:\n- python=3.6.2\n- pip:\n"
        "  - azureml-defaults\n  - tensorflow-gpu==2.2.0\n")
    tf_env = Environment.from_conda_specification(
        name="tensorflow-2.2-gpu", file_path=str(tmp_path / "conda_dependencies.yml"))
    tf_env.docker.enabled = True
    tf_env.docker.base_image = "mcr.microsoft.com/azureml/openmpi3.1.2-cuda10.1-cudnn7-ubuntu18.04"
    assert list(tf_env.python.conda_dependencies.pip_packages) == [
        "azureml-defaults", "tensorflow-gpu==2.2.0"]
    assert tf_env.clone("copy").docker.base_image == tf_env.docker.base_image
    with pytest.raises(UserErrorException, match="no-such-env was not found"):
        Environment.get(workspace=ws, name="no-such-env")
    registered = tf_env.register(workspace=ws)
    assert (registered.name, registered.version) == ("tensorflow-2.2-gpu", "1")
    again = Environment.get(workspace=ws, name="tensorflow-2.2-gpu")
    assert list(again.python.conda_dependencies.pip_packages) == [
        "azureml-defaults", "tensorflow-gpu==2.2.0"]


def test_the_script_trains_on_the_mounted_dataset_and_its_log_is_streamed(trained):
    run, printed = trained
    assert run.get_status() == "Completed"
    assert f"RunId: {run.id}" in printed and "Execution Summary" in printed
    assert "training set (1400, 64) test set (397, 64)" in printed
    metrics = run.get_metrics()
    assert len(metrics["training_acc"]) == len(metrics["validation_acc"]) == 8
    assert metrics["validation_acc"][-1] > 0.5


def test_the_model_is_registered_with_its_framework_and_resources(registered, trained):
    run, _ = trained
    assert (registered.name, registered.version) == ("tf-mnist", 2)
    assert registered.model_framework == "TensorFlow"
    assert registered.resource_configuration.cpu == 1
    assert registered.run_id == run.id
    assert Model(run.experiment.workspace, name="tf-mnist", version=1).version == 1


def test_the_models_files_are_downloaded_one_by_one(trained, tmp_path, monkeypatch):
    import os

    run, _ = trained
    monkeypatch.chdir(tmp_path)
    for f in run.get_file_names():
        if f.startswith("outputs/model"):
            output_file_path = os.path.join("./model", f.split("/")[-1])
            run.download_file(name=f, output_file_path=output_file_path)
    assert (tmp_path / "model" / "saved_model.pb").stat().st_size > 0


def test_mpi_runs_a_horovod_style_allreduce_over_two_nodes(ws, dataset, compute_target,
                                                           tf_env, tmp_path):
    distr_config = MpiConfiguration(process_count_per_node=1, node_count=2)
    src = ScriptRunConfig(source_directory=SRC, script="horovod_style.py",
                          arguments=["--data-folder", dataset.as_mount()],
                          compute_target=compute_target, environment=tf_env,
                          distributed_job_config=distr_config)
    run = Experiment(workspace=ws, name="Tutorial-TF-Horovod").submit(src)
    waited(run)

    ranks = output_reports(run, "mpi_rank_", tmp_path)
    assert [(r["rank"], r["size"]) for r in ranks] == [(0, 2), (1, 2)]
    assert ranks[0]["checksum"] == pytest.approx(ranks[1]["checksum"])  # one model
    losses = run.get_metrics()["loss"]
    assert len(losses) == 20 and losses[-1] < losses[0]


def test_a_parameter_server_layout_gives_every_task_its_tf_config(ws, compute_target, tf_env,
                                                                  tmp_path):
    distr_config = TensorflowConfiguration(worker_count=2, parameter_server_count=1)
    src = ScriptRunConfig(source_directory=SRC, script="tf_config.py",
                          compute_target=compute_target, environment=tf_env,
                          distributed_job_config=distr_config)
    run = Experiment(workspace=ws, name="Tutorial-TF-PS").submit(src)
    waited(run)

    configs = output_reports(run, "tf_config_", tmp_path)
    assert sorted((c["task"]["type"], c["task"]["index"]) for c in configs) == [
        ("ps", 0), ("worker", 0), ("worker", 1)]
    cluster = configs[0]["cluster"]
    assert all(c["cluster"] == cluster for c in configs)
    assert (len(cluster["worker"]), len(cluster["ps"])) == (2, 1)
    assert run.get_metrics() == {"workers": 2.0, "parameter_servers": 1.0}


def test_the_model_deploys_without_code_and_scores_as_it_predicts(ws, registered, trained,
                                                                 tmp_path):
    run, _ = trained
    run.download_file("outputs/predictions.json", str(tmp_path / "predictions.json"))
    expected = json.loads((tmp_path / "predictions.json").read_text())

    service = Model.deploy(ws, "tensorflow-web-service", [registered])
    service.wait_for_deployment(show_output=True)
    assert service.state == "Healthy"
    answer = service.run(input_data=json.dumps({"data": expected["rows"]}))

    assert np.allclose(answer, expected["probabilities"], rtol=1e-3, atol=1e-5)
    primary, _ = service.get_keys()
    request = urllib.request.Request(
        service.scoring_uri, data=json.dumps({"data": expected["rows"]}).encode(),
        headers={"x-functions-key": primary, "Content-Type": "application/json"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as reply:
        assert json.loads(reply.read()) == answer
    service.delete()
    with pytest.raises(WebserviceException, match="not found"):
        Webservice(ws, "tensorflow-web-service")
