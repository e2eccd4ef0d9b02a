"""Reading metrics and params from MLflow's file store."""
from __future__ import annotations

import pytest

from shared.adapters.local_blob import LocalBlobStore
from shared.runner.metrics import read_mlflow_metrics, read_mlflow_params, read_run_metrics

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
    metrics = read_mlflow_metrics(STORE)

    assert metrics == {
        "loss": [{"value": 1.0, "step": 0, "timestamp": 1700000000001},
                 {"value": 0.5, "step": 1, "timestamp": 1700000000002},
                 {"value": 0.25, "step": 2, "timestamp": 1700000000003}],
        "train/acc": [{"value": 0.9, "step": 0, "timestamp": 1700000000005}],
    }


def test_two_values_at_one_step_keep_their_time_order():
    metrics = read_mlflow_metrics({"1/r/metrics/m": b"20 2.0 0\n10 1.0 0\n"})

    assert [p["value"] for p in metrics["m"]] == [1.0, 2.0]


def test_params_are_read_as_text():
    assert read_mlflow_params(STORE) == {"lr": "0.01"}


def test_a_corrupt_metric_line_is_reported():
    with pytest.raises(ValueError, match="loss"):
        read_mlflow_metrics({"1/r/metrics/loss": b"only-one-field\n"})


def test_a_collected_store_is_read_from_the_blob_store(tmp_path):
    blobs = LocalBlobStore(tmp_path / "blobs")
    for rel, data in STORE.items():
        blobs.put(f"runs/run-7/mlruns/{rel}", data)

    metrics, params = read_run_metrics(blobs, "run-7")

    assert [p["value"] for p in metrics["loss"]] == [1.0, 0.5, 0.25]
    assert params == {"lr": "0.01"}


def test_a_run_without_a_store_has_no_metrics(tmp_path):
    assert read_run_metrics(LocalBlobStore(tmp_path / "blobs"), "run-8") == ({}, {})
