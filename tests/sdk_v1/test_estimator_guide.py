"""The Estimator guide of SDK v1 ("Train models with estimators"), as its code is
written, against a live local host: a scikit-learn script with script_params and a named,
mounted dataset; what its Run.get_context() logged is in `mlcycle job show`; the run's
portal URL is its record in the API; register_model without model_path is handled as
v1 handles it (the model's name is its path, and a name the run did not upload is
refused with v1's message)."""
import json
import urllib.request

import pytest
from azureml.core import Dataset, Experiment, Model
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException
from azureml.exceptions import ModelPathNotFoundException
from azureml.train.estimator import Estimator

from tests.sdk_v1.runs import SRC, waited

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def run(ws, digits_folder):
    digits = Dataset.File.from_files(path=str(digits_folder)).register(
        ws, name="digits", description="digits as MNIST's files", create_new_version=True)
    try:
        compute_target = ComputeTarget(workspace=ws, name="cpu-cluster")
    except ComputeTargetException:
        config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2,
                                                       min_nodes=0, vm_priority="lowpriority",
                                                       idle_seconds_before_scaledown=120)
        compute_target = ComputeTarget.create(ws, "cpu-cluster", config)
    script_params = {
        "--data-folder": digits.as_named_input("digits").as_mount(),
        "--regularization": 0.5,
    }
    with pytest.warns(FutureWarning, match="'Estimator' estimator class will be deprecated"):
        sk_est = Estimator(source_directory=SRC, script_params=script_params,
                           compute_target=compute_target, entry_script="train_sklearn.py",
                           conda_packages=["scikit-learn"])
    run = Experiment(workspace=ws, name="sklearn-digits").submit(sk_est)
    waited(run)
    return run


def test_the_logged_metrics_and_tags_appear_in_job_show(run, cli):
    shown = cli.json("job", "show", "-n", run.id)

    assert shown["status"] == "Completed"
    assert shown["metrics"]["regularization rate"] == 0.5
    assert shown["metrics"]["accuracy"] > 0.8
    assert shown["tags"]["estimator"] == "LogisticRegression"
    assert run.get_metrics() == shown["metrics"]
    assert run.get_tags()["estimator"] == "LogisticRegression"


def test_the_named_dataset_is_the_mounted_folder_inside_the_run(run, tmp_path):
    run.download_file("outputs/input_datasets.json", str(tmp_path))
    seen = json.loads((tmp_path / "input_datasets.json").read_text())

    assert seen["input_datasets"] == {"digits": seen["argument"]}
    assert seen["argument"].endswith("/inputs/digits")


def test_the_portal_url_is_the_runs_page_in_the_studio(run, host):
    url = run.get_portal_url()
    assert url.startswith(host.url + "/api/studio/runs/")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"Cookie": f"mlcycle_studio={host.key}"})
    with opener.open(request) as reply:
        page = reply.read().decode()
    assert reply.headers["Content-Type"].startswith("text/html")
    assert f"Run {run.id}" in page and run.get_status() in page


def test_register_model_without_a_path_takes_the_models_name_as_its_path(run, ws):
    model = run.register_model(model_name="sklearn_mnist_model.pkl",
                               model_framework=Model.Framework.SCIKITLEARN)

    assert "sklearn_mnist_model.pkl" in run.get_file_names()  # uploaded by upload_file
    assert Model(ws, "sklearn_mnist_model.pkl").version == model.version == 1
    assert model.model_framework == "ScikitLearn"


def test_register_model_refuses_a_path_the_run_did_not_upload_with_v1s_message(run):
    with pytest.raises(ModelPathNotFoundException,
                       match="Could not locate the provided model_path sklearn-mnist in the "
                             "set of files uploaded to the run"):
        run.register_model(model_name="sklearn-mnist")


def test_a_local_model_file_is_registered_with_its_framework_and_tags(run, ws, tmp_path):
    run.download_file("outputs/sklearn_mnist_model.pkl", str(tmp_path))
    model = Model.register(ws, model_path=str(tmp_path / "sklearn_mnist_model.pkl"),
                           model_name="sklearn-mnist-local", tags={"area": "digits"},
                           model_framework=Model.Framework.SCIKITLEARN,
                           model_framework_version="1.9", description="from a file")

    assert (model.name, model.version, model.run_id) == ("sklearn-mnist-local", 1, None)
    assert model.tags == {"area": "digits", "framework": "ScikitLearn",
                          "framework_version": "1.9"}
    assert model.download(target_dir=str(tmp_path / "again")).endswith(
        "sklearn_mnist_model.pkl")


def test_the_cluster_keeps_its_priority_and_scale_settings(run, ws):
    status = ComputeTarget(workspace=ws, name="cpu-cluster").get_status()
    assert status.vm_priority == "low_priority"
    assert status.scale_settings == {"minNodeCount": 0, "maxNodeCount": 2,
                                     "nodeIdleTimeBeforeScaleDown": 120}
