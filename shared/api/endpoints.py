"""Endpoint routes: list, show (with the model's signature) and delete. Scoring is
shared/api/scoring.py."""
from __future__ import annotations

from shared.api.replies import Reply, view
from shared.domain.records import require
from shared.handlers.deploy import onnx_file
from shared.ports import BlobStore, Registry


def list_endpoints(*, registry: Registry) -> Reply:
    return Reply(200, {"value": [view(r.body) for r in registry.list("endpoint")]})


def show_endpoint(name: str, *, registry: Registry, blobs: BlobStore, scorer) -> Reply:
    """The endpoint, its deployments (each with the model version it serves, its last
    roll-out and that model's signature) and, as `signature`, the inputs and outputs of
    the model behind the deployment that takes most of the traffic: what to send."""
    endpoint = view(require(registry, "endpoint", name).body)
    deployments = [view(r.body) for r in registry.list("deployment")
                   if r.body["endpoint"] == name]
    for dep in deployments:
        dep["signature"] = _signature(registry, blobs, scorer, dep)
    endpoint["deployments"] = deployments
    traffic = endpoint.get("traffic") or {}
    busiest = max((d for d in deployments if traffic.get(d["name"], 0) > 0),
                  key=lambda d: traffic[d["name"]], default=None)
    endpoint["signature"] = busiest["signature"] if busiest else None
    return Reply(200, endpoint)


def _signature(registry: Registry, blobs: BlobStore, scorer, dep: dict) -> dict | None:
    if not dep.get("model_version") or dep.get("serving"):
        return None  # nothing serves yet, or a scoring script that declares no signature
    model = require(registry, "model", dep["model"], dep["model_version"]).body
    return scorer.signature(onnx_file(blobs, model["onnx"]["path"]))


def delete_endpoint(name: str, *, registry: Registry, scripts) -> Reply:
    """Delete the endpoint and every deployment behind it (their servers stop).

    Raises:
        NotFound: no such endpoint.
    """
    from shared.handlers import online_endpoints

    require(registry, "endpoint", name)
    online_endpoints.delete_endpoint(name, registry=registry, scripts=scripts)
    return Reply(204, b"")
