"""deploy: put a model behind a deployment: its ONNX conversion (no-code), or its files
and a scoring script in a server process of its own (`code_configuration`). The version
that serves changes only after the new one has answered a health check; until then the
old one serves."""
from __future__ import annotations

from shared.domain.errors import PermanentError, TransientError
from shared.domain.messages import (ConversionFailed, DeployModel, Envelope, ModelConverted,
                                    ModelDeployed)
from shared.domain.records import latest, require, update, version_order
from shared.faults import pause_point
from shared.handlers.script_deployments import SERVABLE, instance_of, is_script, serving_record
from shared.ports import BlobStore, Bus, Clock, Registry
from shared.serving.model_cache import onnx_file
from shared.serving.script_errors import ScriptFailed


def deploy_model(envelope: Envelope, *, registry: Registry, blobs: BlobStore, bus: Bus,
                 clock: Clock, scorer, scripts=None) -> None:
    msg: DeployModel = envelope.message
    key = f"{msg.endpoint}/{msg.deployment}"
    dep = require(registry, "deployment", key).body
    # A scoring script serves the model's files; no-code serves its ONNX conversion.
    ready, failed, wait = ((SERVABLE, ("Failed",), "registered") if is_script(dep) else
                           (("Converted",), ("ConversionFailed", "Failed"), "converted"))
    wanted = dep["model_ref"].get("version")
    if wanted:
        model = require(registry, "model", dep["model"], wanted).body
    else:
        found = latest(registry, "model", dep["model"], lambda b: b["state"] in ready)
        model = found.body if found else _newest(registry, dep["model"])
    if model["state"] in failed:
        reason = (model.get("error") or {}).get("message", model["state"])
        _mark(registry, key, dep, model["version"], f"model {model['name']}:"
              f"{model['version']} cannot be served: {reason}")
        return
    if model["state"] not in ready:
        # Not an error to retry: conversion can take longer than every retry together.
        # The deployment waits, and the model's ModelConverted or ConversionFailed event
        # (which _waiting finds it by) rolls it out or marks it; the model's state changed
        # after it was read here, so that event comes after this.
        _wait(registry, key, f"waiting for model {model['name']}:{model['version']} to be "
                             f"{wait}")
        return
    _roll(envelope, key, model, registry=registry, blobs=blobs, bus=bus, clock=clock,
          scorer=scorer, scripts=scripts)


def roll_out_latest(envelope: Envelope, *, registry: Registry, blobs: BlobStore, bus: Bus,
                    clock: Clock, scorer, scripts=None) -> None:
    """A new version was converted: every deployment that follows <model>@latest and
    serves an older version moves to it."""
    msg: ModelConverted = envelope.message
    model = require(registry, "model", msg.name, msg.version).body
    for key, _ in _followers(registry, msg.name, msg.version):
        _roll(envelope, key, model, registry=registry, blobs=blobs, bus=bus,
              clock=clock, scorer=scorer, scripts=scripts)


def record_failed_conversion(envelope: Envelope, *, registry: Registry, blobs: BlobStore,
                             bus: Bus, clock: Clock, scorer, scripts=None) -> None:
    """A new version failed its conversion: every no-code deployment that follows
    <model>@latest keeps serving what it serves, and shows the failed roll-out; one
    with a scoring script, which needs no conversion, moves to it."""
    msg: ConversionFailed = envelope.message
    for key, dep in _followers(registry, msg.name, msg.version):
        if is_script(dep):
            model = require(registry, "model", msg.name, msg.version).body
            _roll(envelope, key, model, registry=registry, blobs=blobs, bus=bus,
                  clock=clock, scorer=scorer, scripts=scripts)
            continue
        _mark(registry, key, dep, msg.version, f"model {msg.name}:{msg.version} failed its "
                                              f"ONNX conversion: {msg.reason}")


def _followers(registry: Registry, name: str, version: str) -> list[tuple[str, dict]]:
    """Deployments that version concerns now: those that follow name@latest and serve an
    older version, and those pinned to this very version whose submission is still
    being rolled out (Creating: they waited for its conversion). The state, not the
    version served, tells the latter: an update may pin a model of another name whose
    version number the deployment already serves."""
    found = []
    for r in registry.list("deployment"):
        if r.body["model"] != name:
            continue
        pinned, serving = r.body["model_ref"].get("version"), r.body.get("model_version")
        if pinned:
            if str(pinned) == str(version) and r.body.get("state") == "Creating":
                found.append((r.name, r.body))
        elif not serving or version_order(serving) < version_order(version):
            found.append((r.name, r.body))
    return found


def _wait(registry: Registry, key: str, why: str) -> None:
    def change(body: dict) -> bool | None:
        if body.get("waiting_for") == why:
            return False
        body["waiting_for"] = why
    update(registry, "deployment", key, "", change)


def _roll(envelope: Envelope, key: str, model: dict, *, registry: Registry,
          blobs: BlobStore, bus: Bus, clock: Clock, scorer, scripts=None) -> None:
    dep = require(registry, "deployment", key).body
    if is_script(dep):
        _roll_script(envelope, key, dep, model, registry=registry, bus=bus, clock=clock,
                     scripts=scripts)
        return
    version = model["version"]
    if not (dep.get("model_version") == version and dep["state"] == "Succeeded"):
        try:
            local = onnx_file(blobs, model["onnx"]["path"])
        except PermanentError as exc:  # its file is gone: no retry brings it back
            _mark(registry, key, dep, version, f"the converted model cannot be read: {exc}")
            raise
        # Any other failure to fetch it (the store unreachable) raises: the bus retries.
        try:
            scorer.health(local)
        except Exception as exc:  # the new version failed; the old one keeps serving
            _mark(registry, key, dep, version, f"health check failed: {exc}")
            return

        def promote(body: dict) -> None:
            body.update(model_version=version, state="Succeeded", error=None,
                        updated_at=clock.now(), last_rollout={"version": version,
                                                              "state": "Succeeded"},
                        serving=None, waiting_for=None)
        dep = update(registry, "deployment", key, "", promote)
    # Promote first, then route: traffic never reaches a deployment that serves nothing
    # yet. Routing is idempotent, so a redelivery after a crash between the two writes
    # still routes it.
    _route_traffic(registry, dep)
    if scripts is not None:  # a deployment that ran a scoring script before
        scripts.retire(dep["endpoint"], dep["name"])
    bus.publish(Envelope(ModelDeployed(dep["endpoint"], dep["name"], model["name"], version),
                         id=f"deployed-{key}-{version}", correlation_id=dep["endpoint"],
                         causation_id=envelope.id))


def _roll_script(envelope: Envelope, key: str, dep: dict, model: dict, *,
                 registry: Registry, bus: Bus, clock: Clock, scripts) -> None:
    """Start the server of the new version (the deployment's code and environment with
    this model version); promote it once it answers its health check, route traffic to
    it, and only then stop the version it replaces."""
    version = model["version"]
    if scripts is None:
        reason = "scoring-script deployments are served by the local host (mlcycle up) only"
        _mark(registry, key, dep, version, reason)
        raise PermanentError(reason)
    instance = instance_of(dep, model)
    if not ((dep.get("serving") or {}).get("id") == instance.id and dep["state"] == "Succeeded"):
        try:
            scripts.start(instance)  # adopts the server a first delivery started
        except ScriptFailed as exc:  # the new version cannot serve; the old one keeps serving
            _mark(registry, key, dep, version, str(exc))
            return
        except PermanentError as exc:  # its environment could not be built
            _mark(registry, key, dep, version, str(exc))
            raise
        pause_point("deploy", "started")  # crash tests: a server that nothing routes to
        serving = serving_record(dep, instance)

        def promote(body: dict) -> None:
            body.update(model_version=version, serving=serving, state="Succeeded", error=None,
                        updated_at=clock.now(), waiting_for=None,
                        last_rollout={"version": version, "state": "Succeeded"})
        dep = update(registry, "deployment", key, "", promote)
        pause_point("deploy", "promoted")  # crash tests: the old version still runs
    _route_traffic(registry, dep)
    scripts.retire(dep["endpoint"], dep["name"], keep=frozenset({instance.id}))
    bus.publish(Envelope(ModelDeployed(dep["endpoint"], dep["name"], model["name"], version),
                         id=f"deployed-{key}-{version}-{instance.id}",
                         correlation_id=dep["endpoint"], causation_id=envelope.id))


def _route_traffic(registry: Registry, dep: dict) -> None:
    def change(body: dict) -> bool:
        if not dep.get("all_traffic") and body.get("traffic"):
            return False
        body["traffic"] = {dep["name"]: 100}
        # A deployment that takes live traffic is not also the mirror of it.
        if dep["name"] in (body.get("mirror_traffic") or {}):
            body["mirror_traffic"] = {k: v for k, v in body["mirror_traffic"].items()
                                      if k != dep["name"]}
        return True
    update(registry, "endpoint", dep["endpoint"], "", change)


def _mark(registry: Registry, key: str, dep: dict, version: str, reason: str) -> None:
    """Record a failed roll-out; a deployment that serves an older version stays up. A
    submitted update (Creating) that failed is Failed, as in Azure ML, even so: whoever
    waits for it must hear that it failed."""
    serving = dep.get("model_version")

    def change(body: dict) -> None:
        body["last_rollout"] = {"version": version, "state": "Failed", "error": reason}
        body["error"] = {"message": reason}
        body["waiting_for"] = None
        if not serving or body.get("state") == "Creating":
            body["state"] = "Failed"
    update(registry, "deployment", key, "", change)


def _newest(registry: Registry, name: str) -> dict:
    found = latest(registry, "model", name)
    if found is None:
        raise TransientError(f"model {name!r} has no versions yet")
    return found.body
