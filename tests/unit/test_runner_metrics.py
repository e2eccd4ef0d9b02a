"""Reading metrics and params from MLflow's file store."""
from __future__ import annotations

from shared.adapters.local_blob import LocalBlobStore
from shared.runner.metrics import (read_mlflow_metrics, read_mlflow_params, read_run_metrics,
                                   read_run_store)
from shared.runner.mlflow_artifacts import publish_artifacts

STORE = {
    "0/meta.yaml": b"name: Default\n",
    "42/meta.yaml": b"name: iris\n",
    "42/abc/meta.yaml": b"run_id: abc\n",
    "42/abc/metrics/loss": b"1700000000002 0.5 1\n1700000000001 1.0 0\n1700000000003 0.25 2\n",
    "42/abc/metrics/train/acc": b"1700000000005 0.9 0\n",
    "42/abc/params/lr": b"0.01",
    "42/abc/tags/mlflow.user": b"me",
    "42/abc/artifacts/metrics/not_a_metric": b"whatever",
}


def test_metrics_are_read_per_key_in_step_order():
    metrics, warnings = read_mlflow_metrics(STORE)

    assert metrics == {
        "loss": [{"value": 1.0, "step": 0, "timestamp": 1700000000001},
                 {"value": 0.5, "step": 1, "timestamp": 1700000000002},
                 {"value": 0.25, "step": 2, "timestamp": 1700000000003}],
        "train/acc": [{"value": 0.9, "step": 0, "timestamp": 1700000000005}],
    }


def test_two_values_at_one_step_keep_their_time_order():
    metrics, _ = read_mlflow_metrics({"1/r/metrics/m": b"20 2.0 0\n10 1.0 0\n"})

    assert [p["value"] for p in metrics["m"]] == [1.0, 2.0]


def test_params_are_read_as_text():
    assert read_mlflow_params(STORE) == {"lr": "0.01"}


def test_every_line_form_mlflow_writes_is_read():
    # MLflow 3's autolog adds the dataset's name and digest; old versions had no step.
    metrics, warnings = read_mlflow_metrics({
        "0/r/metrics/training_accuracy_score": b"1796222761962 0.97 0 dataset 2bf3ace3\n",
        "0/r/metrics/old": b"1500000000000 0.5\n",
        "0/r/metrics/stepped": b"1796222761977 1.0 4 dataset 2bf3ace3\n"})

    assert metrics["training_accuracy_score"] == [
        {"value": 0.97, "step": 0, "timestamp": 1796222761962}]
    assert metrics["old"] == [{"value": 0.5, "step": 0, "timestamp": 1500000000000}]
    assert metrics["stepped"][0]["step"] == 4
    assert warnings == []


def test_a_logged_models_copy_of_the_metrics_is_not_read_twice():
    metrics, _ = read_mlflow_metrics({
        "0/r/metrics/loss": b"10 1.0 0\n",
        "0/models/m-1/metrics/loss": b"10 1.0 0 r dataset 2bf3ace3\n"})

    assert metrics == {"loss": [{"value": 1.0, "step": 0, "timestamp": 10}]}


def test_a_corrupt_metric_line_is_skipped_with_a_warning_naming_the_metric():
    metrics, warnings = read_mlflow_metrics(
        {"1/r/metrics/loss": b"10 1.0 0\nonly-one-field\n20 x 1\n"})

    assert metrics == {"loss": [{"value": 1.0, "step": 0, "timestamp": 10}]}
    assert len(warnings) == 1
    assert "'loss'" in warnings[0] and "2 unreadable line(s)" in warnings[0]


def test_a_store_of_garbage_gives_a_bounded_list_of_warnings(tmp_path):
    blobs = LocalBlobStore(tmp_path / "blobs")
    for i in range(20):
        blobs.put(f"runs/run-9/mlruns/0/r/metrics/m{i:02}", b"\x00\xff garbage\n")

    reading = read_run_store(blobs, "run-9")

    assert reading.metrics == {}
    assert len(reading.warnings) == 6 and "15 more" in reading.warnings[-1]


def test_a_collected_store_is_read_from_the_blob_store(tmp_path):
    blobs = LocalBlobStore(tmp_path / "blobs")
    for rel, data in STORE.items():
        blobs.put(f"runs/run-7/mlruns/{rel}", data)

    metrics, params = read_run_metrics(blobs, "run-7")

    assert [p["value"] for p in metrics["loss"]] == [1.0, 0.5, 0.25]
    assert params == {"lr": "0.01"}


def test_a_run_without_a_store_has_no_metrics(tmp_path):
    assert read_run_metrics(LocalBlobStore(tmp_path / "blobs"), "run-8") == ({}, {})


MLFLOW3_MODEL = {  # what mlflow.autolog() leaves for a scikit-learn fit under MLflow 3
    "0/r1/artifacts/estimator.html": b"<html/>",
    "0/models/m-1/meta.yaml": b"model_id: m-1\nname: model\nsource_run_id: r1\n"
                              b"creation_timestamp: 100\n",
    "0/models/m-1/artifacts/MLmodel": b"flavors:\n  sklearn:\n    pickled_model: model.pkl\n",
    "0/models/m-1/artifacts/model.pkl": b"pickle",
    "0/models/m-1/metrics/loss": b"10 1.0 0 r1\n",
}


def test_logged_models_and_run_artifacts_reach_run_history(tmp_path):
    blobs = LocalBlobStore(tmp_path / "blobs")
    for rel, data in MLFLOW3_MODEL.items():
        blobs.put(f"runs/run-1/mlruns/{rel}", data)

    assert publish_artifacts(blobs, "run-1") == []

    assert blobs.get("runs/run-1/model/model.pkl") == b"pickle"
    assert blobs.exists("runs/run-1/model/MLmodel")
    assert blobs.get("runs/run-1/estimator.html") == b"<html/>"
    assert not blobs.list("runs/run-1/outputs")


def test_the_newest_model_of_a_name_wins(tmp_path):
    blobs = LocalBlobStore(tmp_path / "blobs")
    for model, created in (("m-old", 100), ("m-new", 200)):
        blobs.put(f"runs/run-2/mlruns/0/models/{model}/meta.yaml",
                  f"name: model\ncreation_timestamp: {created}\n".encode())
        blobs.put(f"runs/run-2/mlruns/0/models/{model}/artifacts/MLmodel", model.encode())

    publish_artifacts(blobs, "run-2")

    assert blobs.get("runs/run-2/model/MLmodel") == b"m-new"


def test_an_artifact_never_replaces_the_runs_own_folders(tmp_path):
    blobs = LocalBlobStore(tmp_path / "blobs")
    blobs.put("runs/run-3/outputs/model.pkl", b"the job's own")
    blobs.put("runs/run-3/mlruns/0/r/artifacts/outputs/model.pkl", b"an artifact")
    blobs.put("runs/run-3/mlruns/0/models/m-1/meta.yaml", b": not yaml : [")

    warnings = publish_artifacts(blobs, "run-3")

    assert blobs.get("runs/run-3/outputs/model.pkl") == b"the job's own"
    assert any("'outputs'" in w for w in warnings)
    assert any("m-1" in w and "unreadable" in w for w in warnings)
