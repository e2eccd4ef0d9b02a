"""Driving a running mlcycle through its real API, as the CLI does: register a model
version (uploaded as a bundle), wait for its ONNX conversion, create an endpoint that
follows the model, and wait until the endpoint answers with a given version."""
from __future__ import annotations

import time

from bench.models import SavedModel
from shared.cli.bundle import bundle_generated_spec
from shared.cli.client import Client, Config
from shared.cli.submit import submit_bundle, wait_for

SCHEMA = "https://azuremlschemas.azureedge.net/latest/{}.schema.json"
POLL_S = 0.02  # fine-grained: the waits are what area 3 measures


def client(url: str, key: str) -> Client:
    return Client(Config(url, key), timeout=120)


def register(api: Client, model: SavedModel) -> dict:
    """`model create` from the model's folder; returns the new version's record."""
    spec = {"$schema": SCHEMA.format("model"), "name": model.name, "type": "custom_model",
            "path": str(model.folder), "tags": model.tags}
    return submit_bundle(api, "/api/models", *bundle_generated_spec(spec))


def converted(api: Client, name: str, version: str, timeout: float = 600) -> dict:
    record = wait_for(lambda: api.json("GET", f"/api/models/{name}/versions/{version}"),
                      lambda m: m["state"] not in ("Registering", "Registered"),
                      what=f"{name}:{version} to convert", interval=POLL_S, timeout=timeout)
    if record["state"] != "Converted":
        raise RuntimeError(f"{name}:{version} ended {record['state']}: {record.get('error')}")
    return record


def follow(api: Client, endpoint: str, model: str) -> None:
    """An endpoint whose one deployment follows model@latest, with all the traffic."""
    _submit(api, "/api/endpoints", "managedOnlineEndpoint",
            {"name": endpoint, "auth_mode": "key"})
    _submit(api, f"/api/endpoints/{endpoint}/deployments", "managedOnlineDeployment",
            {"name": "blue", "endpoint_name": endpoint, "model": f"azureml:{model}@latest",
             "instance_type": "Standard_DS3_v2", "instance_count": 1}, all_traffic=True)


def _submit(api: Client, route: str, schema: str, spec: dict, **extra) -> dict:
    return submit_bundle(api, route, *bundle_generated_spec(
        {"$schema": SCHEMA.format(schema), **spec}), **extra)


def input_name(api: Client, endpoint: str) -> str:
    signature = api.json("GET", f"/api/endpoints/{endpoint}")["signature"]
    return signature["inputs"][0]["name"]


def oip_body(name: str, rows: list[list[float]]) -> dict:
    """An Open Inference Protocol request: its reply names the model version."""
    return {"inputs": [{"name": name, "shape": [len(rows), len(rows[0])], "datatype": "FP32",
                        "data": [v for row in rows for v in row]}]}


def serving(api: Client, endpoint: str, body: dict, version: str,
            timeout: float = 600) -> float:
    """Score (an OIP body) until the endpoint answers from `version`; returns the
    perf_counter time it first did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            reply = api.json("POST", f"/api/endpoints/{endpoint}/score", body)
            if str(reply.get("model_version")) == str(version):
                return time.perf_counter()
        except Exception:  # noqa: BLE001 - not deployed yet: an error until it is
            pass
        time.sleep(POLL_S)
    raise TimeoutError(f"{endpoint} did not serve version {version} within {timeout} s")


def deploy(api: Client, model: SavedModel, endpoint: str) -> tuple[str, str]:
    """Register, convert and deploy `model` behind `endpoint`; returns (version, input
    name) once the endpoint answers with it."""
    version = register(api, model)["version"]
    converted(api, model.name, version)
    follow(api, endpoint, model.name)
    wait_for(lambda: api.json("GET", f"/api/endpoints/{endpoint}"),
             lambda e: bool(e.get("signature")), what=f"{endpoint} to deploy",
             interval=0.05, timeout=600)
    name = input_name(api, endpoint)
    serving(api, endpoint, oip_body(name, [[0.0] * 64]), version)
    return version, name
