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
    endpoint, deployment_of = _routing(registry, name)
    request = parse_json(body)
    served = _serving(endpoint, deployment_of, headers.get("azureml-model-deployment"))
    if served is None:
        raise TransientError(f"endpoint {name!r} has no deployment serving yet")
    deployment, model_name, model_version = served
    result = scorer.score(_model_file(registry, blobs, model_name, model_version), request,
                          model_name=model_name, model_version=model_version)
    return Reply(200, result, {"azureml-model-deployment": deployment})


# An endpoint's record and its deployments' are read on every scoring request, and they
# change only when someone deploys: where the registry can say whether anything changed
# (SqliteRegistry.generation, one PRAGMA), they are read again only then. That saves two
# queries and their JSON per request, a quarter of a batch-1 request's time in process.
_routes: "weakref.WeakKeyDictionary[Registry, dict]" = weakref.WeakKeyDictionary()


def _routing(registry: Registry, name: str):
    """(endpoint body, deployment name -> body or None) of the endpoint, fresh."""
    generation = getattr(registry, "generation", None)
    token = generation() if generation else None
    known = _routes.setdefault(registry, {}) if token is not None else {}
    cached = known.get(name)
    if cached is not None and cached[0] == token:
        return cached[1], cached[2]
    endpoint = require(registry, "endpoint", name).body
    deployments = {}
    for deployment_name in endpoint.get("traffic") or {}:
        dep = registry.get("deployment", f"{name}/{deployment_name}")
        deployments[deployment_name] = dep.body if dep is not None else None

    def deployment_of(deployment_name: str) -> dict | None:
        if deployment_name in deployments:
            return deployments[deployment_name]
        dep = registry.get("deployment", f"{name}/{deployment_name}")  # named by a header
        return dep.body if dep is not None else None
    if token is not None:
        known[name] = (token, endpoint, deployment_of)
    return endpoint, deployment_of


def _serving(endpoint: dict, deployment_of,
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
    dep = deployment_of(deployment_name)
    if dep is None:
        raise NotFound(f"deployment {deployment_name!r} does not exist")
    if not dep.get("model_version"):
        return None
    return deployment_name, dep["model"], str(dep["model_version"])


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
