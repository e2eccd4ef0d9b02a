"""The demo drives a local host in this process through its HTTP API, the way the CLI
does: digits as a data asset, then a scikit-learn, a PyTorch and a Keras training job,
their models, ONNX conversions, endpoints, and the held-out digits scored over HTTP."""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from shared.cli.bundle import bundle_generated_spec
from shared.cli.client import Client, Config
from shared.cli.submit import submit_bundle, submit_file, wait_for
from shared.demo.workloads import WORKLOADS, Workload
from shared.localhost.host import LocalHost
from shared.settings import Settings

ASSETS = Path(__file__).parent
MIN_ACCURACY = 0.9
# The states each kind of record ends in; the demo waits for one of them.
DATA_DONE = {"Registered", "Failed"}
MODEL_DONE = {"Converted", "ConversionFailed", "Failed"}
JOB_DONE = {"Completed", "Failed", "Canceled"}


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
    for workload in WORKLOADS:
        shutil.copytree(ASSETS / workload.folder, specs / workload.folder, dirs_exist_ok=True)
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
        accuracies = _lifecycle(client, specs, stages, x_test.tolist(), y_test.tolist())
    print("\nstage                      seconds")
    for name, seconds in stages.times:
        print(f"{name:<26} {seconds:7.2f}")
    print("\nendpoint        framework      accuracy")
    for workload in WORKLOADS:
        print(f"{workload.endpoint:<15} {workload.framework:<14} "
              f"{accuracies[workload.endpoint]:.4f}")
    print(f"\nendpoint accuracy on {len(y_test)} held-out digits: {accuracies['digits']:.4f}")
    low = [name for name, accuracy in accuracies.items() if accuracy < MIN_ACCURACY]
    if low:
        print(f"mlcycle demo: accuracy below {MIN_ACCURACY} at {', '.join(low)}",
              file=sys.stderr)
        return 1
    return 0


def _lifecycle(client: Client, specs: Path, stages: Stages, x_test: list,
               y_test: list) -> dict[str, float]:
    """Every workload through every stage; the jobs train side by side on the cluster,
    and each stage waits for all of them. Returns the accuracy of each endpoint."""
    stages.run("compute create", lambda: submit_file(
        client, "/api/computes", str(specs / "digits" / "compute.yml")))
    data = stages.run("data register", lambda: _settle(client, _path("data", submit_file(
        client, "/api/data", str(specs / "data.yml"))), "Registered", DATA_DONE,
        "the data asset"))
    print(f"    data asset digits:{data['version']} fingerprint {data['fingerprint'][:12]}")
    runs = stages.run("job (submit to done)", lambda: _train(client, specs))
    models = stages.run("model register", lambda: {
        w.model: _register(client, w, runs[w.model]) for w in WORKLOADS})
    models = stages.run("onnx convert", lambda: {
        name: _settle(client, _path("models", m), "Converted", MODEL_DONE,
                      f"the conversion of {name}") for name, m in models.items()})
    for name, model in models.items():
        parity = model["onnx"]["parity"]
        print(f"    model {name}:{model['version']} {model['state']} by "
              f"{parity.get('converter')}, parity max abs diff {parity.get('max_abs_diff')}")
    stages.run("endpoint create", lambda: [submit_file(
        client, "/api/endpoints", str(specs / w.folder / "endpoint.yml")) for w in WORKLOADS])
    stages.run("deploy", lambda: [_deploy(client, specs, w) for w in WORKLOADS])
    return stages.run("score over HTTP", lambda: {
        w.endpoint: _accuracy(client, w, x_test, y_test) for w in WORKLOADS})


def _settle(client: Client, path: str, ok: str, done: set, what: str,
            key: str = "state") -> dict:
    """Wait until the record at path is done; stop the demo unless it ended ok."""
    result = wait_for(lambda: client.json("GET", path), lambda r: r[key] in done,
                      what=what, interval=0.2, timeout=600)
    if result[key] != ok:
        raise SystemExit(f"mlcycle demo: {what} ended {result[key]}: {result.get('error')}")
    return result


def _path(kind: str, record: dict) -> str:
    return f"/api/{kind}/{record['name']}/versions/{record['version']}"


def _train(client: Client, specs: Path) -> dict[str, dict]:
    submitted = {w.model: submit_file(client, "/api/jobs", str(specs / w.folder / "job.yml"))
                 for w in WORKLOADS}
    runs = {model: _settle(client, f"/api/jobs/{run['name']}", "Completed", JOB_DONE,
                           f"the training job {run['name']}", key="status")
            for model, run in submitted.items()}
    for run in runs.values():
        print(f"    job {run['name']} ({run.get('display_name')}) {run['status']}, "
              f"metrics {run['metrics']}")
    return runs


def _register(client: Client, workload: Workload, run: dict) -> dict:
    spec = {"$schema": "https://azuremlschemas.azureedge.net/latest/model.schema.json",
            "name": workload.model, "type": "custom_model",
            "path": f"azureml://jobs/{run['name']}/outputs/artifacts/paths/outputs/model/",
            "tags": workload.tags}
    return submit_bundle(client, "/api/models", *bundle_generated_spec(spec))


def _deploy(client: Client, specs: Path, workload: Workload) -> dict:
    submit_file(client, f"/api/endpoints/{workload.endpoint}/deployments",
                str(specs / workload.folder / "deployment.yml"), all_traffic=True)

    def blue(endpoint: dict) -> dict:
        return next(d for d in endpoint["deployments"] if d["name"] == "blue")

    def settled(endpoint: dict) -> bool:
        # Traffic moves to a deployment just after it succeeds; score only once it has.
        state = blue(endpoint)["state"]
        return state == "Failed" or (state == "Succeeded" and
                                     (endpoint.get("traffic") or {}).get("blue", 0) > 0)

    endpoint = wait_for(lambda: client.json("GET", f"/api/endpoints/{workload.endpoint}"),
                        settled, what="the deployment", interval=0.2, timeout=600)
    deployment = blue(endpoint)
    if deployment["state"] != "Succeeded":
        raise SystemExit(f"mlcycle demo: deployment failed: {deployment.get('error')}")
    inputs = ", ".join(f"{i['name']} {i['datatype']} {i['shape']}"
                       for i in deployment["signature"]["inputs"])
    print(f"    {workload.endpoint} serves {workload.model}:{deployment['model_version']}, "
          f"takes {inputs}")
    return endpoint


def _accuracy(client: Client, workload: Workload, x_test: list, y_test: list) -> float:
    predictions: list[int] = []
    for start in range(0, len(x_test), 100):
        answer = client.json("POST", f"/api/endpoints/{workload.endpoint}/score",
                             workload.request(x_test[start:start + 100]))
        predictions += workload.predicted(answer)
    print(f"    {workload.endpoint}: scored {len(predictions)} rows; first answer: "
          f"{json.dumps(predictions[:10])}")
    return sum(p == int(t) for p, t in zip(predictions, y_test)) / len(y_test)
