"""Endpoint routes: show (with the model's signature) and no-code scoring."""
from __future__ import annotations

import random
import weakref
from pathlib import Path

from shared.api.replies import Reply, parse_json, view
from shared.domain.errors import NotFound, TransientError
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
    if not dep.get("model_version"):
        return None
    model = require(registry, "model", dep["model"], dep["model_version"]).body
    return scorer.signature(onnx_file(blobs, model["onnx"]["path"]))


def score(name: str, body: bytes, headers: dict, *, registry: Registry, blobs: BlobStore,
          scorer) -> Reply:
    endpoint = require(registry, "endpoint", name).body
    request = parse_json(body)
    served = _serving(endpoint, registry, headers.get("azureml-model-deployment"))
    if served is None:
        raise TransientError(f"endpoint {name!r} has no deployment serving yet")
    deployment, model_name, model_version = served
    result = scorer.score(_model_file(registry, blobs, model_name, model_version), request,
                          model_name=model_name, model_version=model_version)
    return Reply(200, result, {"azureml-model-deployment": deployment})


def _serving(endpoint: dict, registry: Registry,
             wanted: str | None = None) -> tuple[str, str, str] | None:
    """(deployment, model name, model version) that takes this request: the deployment
    named by the azureml-model-deployment header, else one drawn by the traffic split."""
    traffic = {d: p for d, p in (endpoint.get("traffic") or {}).items() if p > 0}
    if wanted:
        traffic = {wanted: 100}
    if not traffic:
        return None
    names, weights = zip(*traffic.items())
    deployment_name = random.choices(names, weights)[0]
    dep = registry.get("deployment", f"{endpoint['name']}/{deployment_name}")
    if dep is None:
        raise NotFound(f"deployment {deployment_name!r} does not exist")
    if not dep.body.get("model_version"):
        return None
    return deployment_name, dep.body["model"], str(dep.body["model_version"])


# A model version is immutable and a deployment only ever points at a converted one, so
# where its ONNX file lies is looked up once, not on every request: that saves a query,
# the decoding of the model's record and a path check per request. Keyed by registry, as
# each host (and each test) has its own.
_model_files: "weakref.WeakKeyDictionary[Registry, dict]" = weakref.WeakKeyDictionary()


def _model_file(registry: Registry, blobs: BlobStore, name: str, version: str) -> Path:
    known = _model_files.setdefault(registry, {})
    path = known.get((name, version))
    if path is None:
        model = require(registry, "model", name, version).body
        path = known[name, version] = onnx_file(blobs, model["onnx"]["path"])
    return path
