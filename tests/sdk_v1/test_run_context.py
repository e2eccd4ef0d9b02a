"""Run.get_context() in a real process: inside an mlcycle job (MLCYCLE_RUN_ID and the
MLflow store the runner gives) what it logs lands in the store that job-complete ingests
(metrics with steps, row columns, strings and tags, images and files as artifacts, files
under outputs/ in the job's own folder); outside a job it is an offline run that prints."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from shared.runner.metrics import read_mlflow_metrics, read_mlflow_tags

SCRIPT = textwrap.dedent("""
    import io
    from azureml.core import Run
    run = Run.get_context()
    print(type(run).__name__, run.id)
    run.log("acc", 0.5)
    run.log("acc", 0.75)
    run.log("loss", 2.0, step=10)
    run.log_list("lrs", [0.1, 0.01])
    run.log_row("table", epoch=1, acc=0.5)
    run.log_row("table", epoch=2, acc=0.7)
    run.log("optimizer", "sgd")
    run.tag("stage", "probe")
    open("curve.png", "wb").write(b"not really a png")
    run.log_image("curve", path="curve.png")
    run.upload_file("notes/readme.txt", io.BytesIO(b"hello"))
    run.upload_file("outputs/copy.txt", "curve.png")
    print(run.get_metrics())
""")


def run_script(tmp_path: Path, env: dict) -> str:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=code, env=env, text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def store_files(store: Path) -> dict[str, bytes]:
    return {p.relative_to(store).as_posix(): p.read_bytes()
            for p in store.rglob("*") if p.is_file()}


def job_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLCYCLE_", "AZUREML_"))}
    return {**env, "MLCYCLE_RUN_ID": "calm_river_123", "AZUREML_RUN_ID": "calm_river_123",
            "MLFLOW_TRACKING_URI": f"file://{tmp_path}/mlruns", "MLFLOW_ALLOW_FILE_STORE": "true",
            "MLFLOW_EXPERIMENT_NAME": "probe", "MLCYCLE_NODE_DIR": str(tmp_path)}


def test_inside_a_job_metrics_tags_and_files_land_in_the_runs_mlflow_store(tmp_path):
    printed = run_script(tmp_path, job_env(tmp_path))
    files = store_files(tmp_path / "mlruns")
    metrics, warnings = read_mlflow_metrics(files)

    assert printed.startswith("_LiveRun calm_river_123")
    assert warnings == []
    assert {k: [(p["step"], p["value"]) for p in v] for k, v in metrics.items()} == {
        "acc": [(0, 0.5), (1, 0.75)], "loss": [(10, 2.0)], "lrs": [(0, 0.1), (1, 0.01)],
        "table/epoch": [(0, 1.0), (1, 2.0)], "table/acc": [(0, 0.5), (1, 0.7)]}
    assert read_mlflow_tags(files) == {"optimizer": "sgd", "stage": "probe"}
    artifacts = {k.split("/artifacts/", 1)[1]: v for k, v in files.items() if "/artifacts/" in k}
    assert artifacts == {"curve.png": b"not really a png", "notes/readme.txt": b"hello"}
    assert (tmp_path / "code" / "outputs" / "copy.txt").read_bytes() == b"not really a png"
    assert "'acc': [0.5, 0.75]" in printed and "'optimizer': 'sgd'" in printed


def test_outside_a_job_the_run_is_offline_and_prints_what_it_is_given(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLCYCLE_", "AZUREML_", "MLFLOW_"))}
    printed = run_script(tmp_path, {**env, "MLFLOW_TRACKING_URI": f"file://{tmp_path}/mlruns"})

    assert printed.startswith("_OfflineRun OfflineRun_")
    assert "Attempted to log scalar metric acc:\n0.5\n" in printed
    assert "Attempted to upload file notes/readme.txt" in printed
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / "code" / "outputs").exists()
