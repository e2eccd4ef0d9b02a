"""Scoring an endpoint: pick the deployment (the traffic split, or the one a header
names), then score with the no-code scorer or the deployment's scoring script.

This is the hot path of the local host (bench/: BENCHMARKS.md). What a request needs
from the registry is cached until the registry says something changed, and nothing here
takes a lock a request could wait on: with sixteen clients, a thread that waited on one
lost the GIL and the core to the others (a context switch each way), which cost more
than the work the lock guarded."""
from __future__ import annotations

import itertools
import random
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from shared.api import mirror
from shared.api.replies import MAX_JSON_BODY, BadRequest, Reply, parse_json
from shared.domain.errors import MlcycleError, NotFound, PermanentError, TransientError
from shared.domain.records import require
from shared.handlers.deploy import onnx_file
from shared.ports import BlobStore, Registry
from shared.serving.request_stats import stats_for
from shared.serving.script_instance import ScriptInstance


def score(name: str, body: bytes, headers: dict, *, registry: Registry, blobs: BlobStore,
          scorer, scripts=None) -> Reply:
    """Score one request (see _score), counted with its latency per deployment.
    headers: with lower-case names."""
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
    route = _route(registry, name)
    wanted = headers.get("azureml-model-deployment")
    if route.mirror and not wanted:
        mirror.mirror(registry, name, route.mirror, lambda deployment: score(
            name, body, {"azureml-model-deployment": deployment}, registry=registry,
            blobs=blobs, scorer=scorer, scripts=scripts))
    served = _serving(route, registry, wanted)
    if served is not None and served[3] is not None:
        return _score_script(served[0], served[3], body, scripts)
    request = parse_json(body)
    if served is None:
        raise TransientError(f"endpoint {name!r} has no deployment serving yet")
    deployment, model_name, model_version, _ = served
    result = scorer.score(_model_file(registry, blobs, model_name, model_version), request,
                          model_name=model_name, model_version=model_version)
    return Reply(200, result, {"azureml-model-deployment": deployment})


@dataclass(frozen=True)
class _Route:
    """What scoring reads of an endpoint: its deployments' records (None for one that
    does not exist), the split, ready to draw from, and the mirror."""

    name: str
    deployments: dict
    names: tuple  # deployments taking traffic (> 0 %)
    cumulative: tuple  # their cumulative weights, for random.choices
    mirror: dict


# An endpoint's record and its deployments' are read on every scoring request, and they
# change only when someone deploys: where the registry can say whether anything changed
# (SqliteRegistry.generation, a counter in shared memory), they are read again only then.
_routes: "weakref.WeakKeyDictionary[Registry, dict]" = weakref.WeakKeyDictionary()


def _route(registry: Registry, name: str) -> _Route:
    generation = getattr(registry, "generation", None)
    token = generation() if generation else None
    if token is None:  # a registry that cannot say what changed: read every time
        return _read_route(registry, name)
    known = _routes.get(registry)
    if known is None:
        known = _routes.setdefault(registry, {})
    cached = known.get(name)
    if cached is not None and cached[0] == token:
        return cached[1]
    route = _read_route(registry, name)
    known[name] = (token, route)
    return route


def _read_route(registry: Registry, name: str) -> _Route:
    endpoint = require(registry, "endpoint", name).body
    traffic = {d: p for d, p in (endpoint.get("traffic") or {}).items() if p > 0}
    mirrored = endpoint.get("mirror_traffic") or {}
    deployments = {}
    for deployment_name in {**(endpoint.get("traffic") or {}), **mirrored}:
        dep = registry.get("deployment", f"{name}/{deployment_name}")
        deployments[deployment_name] = dep.body if dep is not None else None
    return _Route(name, deployments, tuple(traffic),
                  tuple(itertools.accumulate(traffic.values())), mirrored)


def _serving(route: _Route, registry: Registry,
             wanted: str | None = None) -> tuple[str, str, str, dict | None] | None:
    """(deployment, model name, model version, its scoring-script instance or None)
    that takes this request: the deployment named by the azureml-model-deployment
    header, else one drawn by the traffic split."""
    if wanted:
        deployment_name = wanted
        if wanted in route.deployments:
            dep = route.deployments[wanted]
        else:  # named by the header, outside the split: read now
            found = registry.get("deployment", f"{route.name}/{wanted}")
            dep = found.body if found is not None else None
    elif not route.names:
        return None
    else:
        deployment_name = route.names[0] if len(route.names) == 1 else \
            random.choices(route.names, cum_weights=route.cumulative)[0]
        dep = route.deployments[deployment_name]
    if dep is None:
        raise NotFound(f"deployment {deployment_name!r} does not exist")
    if not dep.get("model_version"):
        return None
    return deployment_name, dep["model"], str(dep["model_version"]), dep.get("serving")


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
