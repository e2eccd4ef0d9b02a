"""Reading a running trial's MLflow store, as early termination does: what MLflow has
written so far, a line cut short left out until it is whole."""
import subprocess
import sys

from shared.adapters.local_compute import LocalCompute
from shared.runner.live_metrics import read_store_folder

LOG = """
import mlflow
mlflow.set_tracking_uri("file://{store}")
with mlflow.start_run():
    for step, value in enumerate([0.5, 0.7, 0.9]):
        mlflow.log_metric("accuracy", value, step=step)
    mlflow.log_param("C", 1.0)
"""


def logged(store):
    done = subprocess.run([sys.executable, "-c", LOG.format(store=store)], capture_output=True,
                          text=True, timeout=300, env={"MLFLOW_ALLOW_FILE_STORE": "true",
                                                       "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


def test_what_mlflow_logged_is_read_in_step_order(tmp_path):
    logged(tmp_path / "mlruns")
    metrics = read_store_folder(tmp_path / "mlruns")
    assert [p["value"] for p in metrics["accuracy"]] == [0.5, 0.7, 0.9]
    assert [p["step"] for p in metrics["accuracy"]] == [0, 1, 2]
    assert set(metrics) == {"accuracy"}  # params are not metrics


def test_a_line_being_written_is_skipped_until_it_is_whole(tmp_path):
    logged(tmp_path / "mlruns")
    [metric_file] = (tmp_path / "mlruns").glob("*/*/metrics/accuracy")
    with open(metric_file, "a") as f:
        f.write("17000000")  # a timestamp, the value and step not yet written
    assert [p["value"] for p in read_store_folder(tmp_path / "mlruns")["accuracy"]] == \
        [0.5, 0.7, 0.9]


def test_local_compute_reads_node_zeros_store_and_nothing_before_it_exists(tmp_path):
    compute = LocalCompute(tmp_path / "work")
    assert compute.read_metrics("run_1") == {}
    logged(tmp_path / "work" / "run_1" / "node-0" / "mlruns")
    assert [p["value"] for p in compute.read_metrics("run_1")["accuracy"]] == [0.5, 0.7, 0.9]
