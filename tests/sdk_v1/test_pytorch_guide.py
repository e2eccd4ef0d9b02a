"""The PyTorch guide of SDK v1 ("Train PyTorch models at scale"), as its code is written,
against a live local host (digits for the birds, CPUs for GPUs): the PyTorch estimator
trains and logs, the model is registered, the guide's loop over get_file_names
downloads it, and distributed training runs over two nodes with torch.distributed."""
import os

import pytest
from azureml.core import Dataset, Experiment
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException
from azureml.train.dnn import Gloo, PyTorch

from tests.sdk_v1.runs import SRC, output_reports, waited

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def compute_target(ws):
    cluster_name = "gpu-cluster-torch"
    try:
        return ComputeTarget(workspace=ws, name=cluster_name)
    except ComputeTargetException:
        compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6",
                                                               max_nodes=4)
        compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
        compute_target.wait_for_completion(show_output=True, min_node_count=None,
                                           timeout_in_minutes=20)
        return compute_target


@pytest.fixture(scope="module")
def run(ws, compute_target, digits_folder):
    dataset = Dataset.File.from_files(path=str(digits_folder))  # used without registering
    script_params = {"--num_epochs": 3, "--output_dir": "./outputs",
                     "--data-folder": dataset.as_mount()}
    with pytest.warns(FutureWarning, match="'PyTorch' estimator class will be deprecated"):
        estimator = PyTorch(source_directory=SRC, script_params=script_params,
                            compute_target=compute_target, entry_script="pytorch_train.py",
                            use_gpu=True, pip_packages=["torch"])
    run = Experiment(ws, name="pytorch-birds").submit(estimator)
    waited(run)
    return run


def test_the_estimator_trains_and_logs_its_best_accuracy(run):
    metrics = run.get_metrics()
    assert metrics["lr"] == 0.05
    assert metrics["best_val_acc"] > 0.8


def test_the_model_is_registered_and_its_files_downloaded_as_the_guide_loops(
        run, tmp_path, monkeypatch):
    import torch

    model = run.register_model(model_name="pytorch-birds", model_path="outputs/model.pt")
    assert (model.name, model.version) == ("pytorch-birds", 1)
    monkeypatch.chdir(tmp_path)
    for f in run.get_file_names():
        if f.startswith("outputs/model"):
            output_file_path = os.path.join("./model", f.split("/")[-1])
            print("Downloading from {} to {} ...".format(f, output_file_path))
            run.download_file(name=f, output_file_path=output_file_path)
    weights = torch.load(tmp_path / "model" / "model.pt")
    assert weights["0.weight"].shape == (32, 64)
    fetched = model.download(target_dir=str(tmp_path / "registered"))
    assert torch.load(fetched)["0.weight"].equal(weights["0.weight"])


def test_distributed_training_runs_over_two_nodes(ws, compute_target, tmp_path):
    with pytest.warns(FutureWarning):
        estimator = PyTorch(source_directory=SRC, compute_target=compute_target,
                            script_params={}, entry_script="pytorch_ddp.py", node_count=2,
                            process_count_per_node=1, distributed_training=Gloo(),
                            use_gpu=True)
    run = Experiment(ws, name="pytorch-distributed").submit(estimator)
    waited(run)

    ranks = output_reports(run, "ddp_rank_", tmp_path)
    assert [(r["rank"], r["node_rank"], r["world_size"]) for r in ranks] == [(0, 0, 2),
                                                                            (1, 1, 2)]
    assert ranks[0]["weights"] == pytest.approx(ranks[1]["weights"])  # kept in step
    losses = run.get_metrics()["loss"]
    assert len(losses) == 20 and losses[-1] < losses[0]
