"""Endpoint routes: show (with the model's signature) and scoring, by the no-code scorer
or by a deployment's scoring script."""
from __future__ import annotations

import random
import time
import weakref
from pathlib import Path

from shared.api import mirror
from shared.api.replies import MAX_JSON_BODY, BadRequest, Reply, parse_json, view
from shared.domain.errors import MlcycleError, NotFound, PermanentError, TransientError
from shared.domain.records import require
from shared.handlers.deploy import onnx_file
from shared.ports import BlobStore, Registry
from shared.serving.request_stats import stats_for
from shared.serving.script_instance import ScriptInstance


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


def score(name: str, body: bytes, headers: dict, *, registry: Registry, blobs: BlobStore,
          scorer, scripts=None) -> Reply:
    """Score one request (see _score), counted with its latency per deployment."""
    started, status, deployment = time.perf_counter(), 500, None
    try:
        reply = _score(name, body, headers, registry=registry, blobs=blobs, scorer=scorer,
                       scripts=scripts)
        status, deployment = reply.status, reply.headers.get("azureml-model-deployment")
        return reply
    except MlcycleError as exc:
        status = exc.status
        raise
    finally:
        # A name no endpoint has is not counted: the table would grow with every guess.
        if status != 404 or deployment:
            stats_for(registry).record(name, deployment or
                                       headers.get("azureml-model-deployment"),
                                       status, time.perf_counter() - started)


def _score(name: str, body: bytes, headers: dict, *, registry: Registry, blobs: BlobStore,
           scorer, scripts=None) -> Reply:
    """Score one request with the deployment the traffic split (or the
    azureml-model-deployment header) picks: its scoring script's run() gets the body as
    it came, the no-code scorer a JSON body it understands. A request the split routes
    is also copied to the endpoint's mirror deployment by its share, in the background."""
    endpoint, deployment_of = _routing(registry, name)
    wanted = headers.get("azureml-model-deployment")
    if endpoint.get("mirror_traffic") and not wanted:
        mirror.mirror(registry, name, endpoint["mirror_traffic"], lambda deployment: score(
            name, body, {"azureml-model-deployment": deployment}, registry=registry,
            blobs=blobs, scorer=scorer, scripts=scripts))
    served = _serving(endpoint, deployment_of, wanted)
    if served is not None and served[3] is not None:
        return _score_script(served[0], served[3], body, scripts)
    request = parse_json(body)
    if served is None:
        raise TransientError(f"endpoint {name!r} has no deployment serving yet")
    deployment, model_name, model_version, _ = served
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
    for deployment_name in {**(endpoint.get("traffic") or {}),
                            **(endpoint.get("mirror_traffic") or {})}:
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


def _score_script(deployment: str, serving: dict, body: bytes, scripts) -> Reply:
    """The answer of the scoring script's server, as it gave it: run()'s value as JSON,
    or a JSON error (500 for what run() raised, 504 when it did not answer in time)."""
    if scripts is None:
        raise PermanentError("scoring-script deployments are served by the local host "
                             "(mlcycle up) only")
    if len(body) > MAX_JSON_BODY:
        raise BadRequest(f"request body is larger than {MAX_JSON_BODY} bytes")
    status, answer = scripts.score(ScriptInstance.from_record(serving), body,
                                   timeout_s=serving["request_timeout_ms"] / 1000)
    return Reply(status, answer, {"Content-Type": "application/json",
                                  "azureml-model-deployment": deployment})


def _serving(endpoint: dict, deployment_of,
             wanted: str | None = None) -> tuple[str, str, str, dict | None] | None:
    """(deployment, model name, model version, its scoring-script instance or None)
    that takes this request: the deployment named by the azureml-model-deployment
    header, else one drawn by the traffic split."""
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
    return deployment_name, dep["model"], str(dep["model_version"]), dep.get("serving")


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
