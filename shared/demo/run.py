"""The demo drives a local host in this process through its HTTP API, the way the CLI
does: digits as a data asset, a training job, a model, ONNX, an endpoint, scores."""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from shared.cli.client import Client, Config
from shared.cli.submit import submit_bundle, submit_file, wait_for
from shared.cli.bundle import bundle_generated_spec
from shared.localhost.host import LocalHost
from shared.settings import Settings

ASSETS = Path(__file__).parent / "digits"
MIN_ACCURACY = 0.9


def write_digits(folder: Path) -> tuple:
    """scikit-learn's digits (they ship with the package) as train and held-out CSVs."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=42)
    folder.mkdir(parents=True, exist_ok=True)
    header = ",".join([f"pixel{i}" for i in range(x.shape[1])] + ["label"])
    np.savetxt(folder / "train.csv", np.column_stack([x_train, y_train]), delimiter=",",
               header=header, comments="", fmt="%g")
    return x_test, y_test


class Stages:
    def __init__(self) -> None:
        self.times: list[tuple[str, float]] = []

    def run(self, name: str, step):
        print(f"... {name}", flush=True)
        start = time.perf_counter()
        result = step()
        self.times.append((name, time.perf_counter() - start))
        return result


def main(data_root: str | None = None, port: int = 0) -> int:
    work = Path(data_root or tempfile.mkdtemp(prefix="mlcycle-demo-"))
    if (work / "data").exists():
        shutil.rmtree(work / "data")  # the demo starts from a fresh data root
    specs = work / "specs"
    shutil.copytree(ASSETS, specs, dirs_exist_ok=True)
    x_test, y_test = write_digits(specs / "digits-data")
    (specs / "data.yml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/data.schema.json\n"
        "name: digits\ntype: uri_folder\npath: ./digits-data\n"
        "description: scikit-learn's handwritten digits, training split\n")
    settings = Settings(work / "data", retry_backoff_s=0.5)
    stages = Stages()
    with LocalHost(settings, port=port) as host:
        client = Client(Config(host.url, host.key), timeout=120)
        print(f"mlcycle demo: local host at {host.url}, data root {settings.data_root}")
        accuracy = _lifecycle(client, specs, stages, x_test, y_test)
    print("\nstage                      seconds")
    for name, seconds in stages.times:
        print(f"{name:<26} {seconds:7.2f}")
    print(f"\nendpoint accuracy on {len(y_test)} held-out digits: {accuracy:.4f}")
    if accuracy < MIN_ACCURACY:
        print(f"mlcycle demo: accuracy below {MIN_ACCURACY}", file=sys.stderr)
        return 1
    return 0


def _lifecycle(client: Client, specs: Path, stages: Stages, x_test, y_test) -> float:
    def settle(path: str, ok: set, what: str, key: str = "state"):
        result = wait_for(lambda: client.json("GET", path), lambda r: r[key] not in busy,
                          what=what, interval=0.2, timeout=600)
        if result[key] not in ok:
            raise SystemExit(f"mlcycle demo: {what} ended {result[key]}: {result.get('error')}")
        return result

    busy = {"Registering", "Creating", "NotStarted", "Queued", "Preparing", "Starting",
            "Running", "Finalizing", "CancelRequested"}
    stages.run("compute create", lambda: submit_file(client, "/api/computes",
                                                      str(specs / "compute.yml")))
    data = stages.run("data register", lambda: settle(
        _path("data", submit_file(client, "/api/data", str(specs / "data.yml"))),
        {"Registered"}, "the data asset"))
    print(f"    data asset digits:{data['version']} fingerprint {data['fingerprint'][:12]}")
    run = stages.run("job (submit to done)", lambda: settle(
        f"/api/jobs/{submit_file(client, '/api/jobs', str(specs / 'job.yml'))['name']}",
        {"Completed"}, "the training job", key="status"))
    print(f"    job {run['name']} {run['status']}, metrics {run['metrics']}")
    model_spec = {"$schema": "https://azuremlschemas.azureedge.net/latest/model.schema.json",
                  "name": "digits-classifier", "type": "custom_model",
                  "path": f"azureml://jobs/{run['name']}/outputs/artifacts/paths/model/",
                  "tags": {"framework": "ScikitLearn"}}
    model = stages.run("model register", lambda: settle(
        _path("models", submit_bundle(client, "/api/models", *bundle_generated_spec(model_spec))),
        {"Registered", "Converted", "ConversionFailed"}, "the model"))
    model = stages.run("onnx convert", lambda: _converted(client, model))
    parity = model["onnx"]["parity"]
    print(f"    model {model['name']}:{model['version']} {model['state']}, parity max abs "
          f"diff {parity.get('max_abs_diff')}")
    stages.run("endpoint create", lambda: submit_file(client, "/api/endpoints",
                                                       str(specs / "endpoint.yml")))
    stages.run("deploy", lambda: _deploy(client, specs))
    predictions = stages.run("score over HTTP", lambda: _score(client, x_test))
    return float(sum(int(p) == int(t) for p, t in zip(predictions, y_test)) / len(y_test))


def _path(kind: str, record: dict) -> str:
    return f"/api/{kind}/{record['name']}/versions/{record['version']}"


def _converted(client: Client, model: dict) -> dict:
    result = wait_for(lambda: client.json("GET", _path("models", model)),
                      lambda r: r["state"] in ("Converted", "ConversionFailed", "Failed"),
                      what="the ONNX conversion", interval=0.2, timeout=600)
    if result["state"] != "Converted":
        raise SystemExit(f"mlcycle demo: conversion failed: {result.get('error')}")
    return result


def _deploy(client: Client, specs: Path) -> dict:
    submit_file(client, "/api/endpoints/digits/deployments", str(specs / "deployment.yml"),
                all_traffic=True)

    def blue(endpoint: dict) -> dict:
        return next(d for d in endpoint["deployments"] if d["name"] == "blue")

    endpoint = wait_for(lambda: client.json("GET", "/api/endpoints/digits"),
                        lambda e: blue(e)["state"] != "Creating", what="the deployment",
                        interval=0.2, timeout=600)
    if blue(endpoint)["state"] != "Succeeded":
        raise SystemExit(f"mlcycle demo: deployment failed: {blue(endpoint).get('error')}")
    return endpoint


def _score(client: Client, x_test) -> list:
    predictions: list = []
    for start in range(0, len(x_test), 100):
        rows = x_test[start:start + 100].tolist()
        predictions += client.json("POST", "/api/endpoints/digits/score", {"data": rows})
    print(f"    scored {len(predictions)} rows; first answer: {json.dumps(predictions[:10])}")
    return predictions
