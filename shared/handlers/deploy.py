"""deploy: put a converted model behind a deployment. The version that serves changes
only after the new one has answered a health check; until then the old one serves."""
from __future__ import annotations

import tempfile
from pathlib import Path

from shared.domain.errors import TransientError
from shared.domain.messages import (ConversionFailed, DeployModel, Envelope, ModelConverted,
                                    ModelDeployed)
from shared.domain.records import latest, require, update
from shared.ports import BlobStore, Bus, Clock, Registry


def deploy_model(envelope: Envelope, *, registry: Registry, blobs: BlobStore, bus: Bus,
                 clock: Clock, scorer) -> None:
    msg: DeployModel = envelope.message
    key = f"{msg.endpoint}/{msg.deployment}"
    dep = require(registry, "deployment", key).body
    wanted = dep["model_ref"].get("version")
    if wanted:
        model = require(registry, "model", dep["model"], wanted).body
    else:
        found = latest(registry, "model", dep["model"], lambda b: b["state"] == "Converted")
        model = found.body if found else _newest(registry, dep["model"])
    if model["state"] in ("ConversionFailed", "Failed"):
        reason = (model.get("error") or {}).get("message", model["state"])
        _mark(registry, key, dep, model["version"], f"model {model['name']}:"
              f"{model['version']} cannot be served: {reason}")
        return
    if model["state"] != "Converted":
        raise TransientError(f"model {model['name']}:{model['version']} is not converted yet")
    _roll(envelope, key, model, registry=registry, blobs=blobs, bus=bus, clock=clock,
          scorer=scorer)


def roll_out_latest(envelope: Envelope, *, registry: Registry, blobs: BlobStore, bus: Bus,
                    clock: Clock, scorer) -> None:
    """A new version was converted: every deployment that follows <model>@latest and
    serves an older version moves to it."""
    msg: ModelConverted = envelope.message
    model = require(registry, "model", msg.name, msg.version).body
    for key, _ in _followers(registry, msg.name, msg.version):
        _roll(envelope, key, model, registry=registry, blobs=blobs, bus=bus,
              clock=clock, scorer=scorer)


def record_failed_conversion(envelope: Envelope, *, registry: Registry) -> None:
    """A new version failed its conversion: every deployment that follows
    <model>@latest keeps serving what it serves, and shows the failed roll-out."""
    msg: ConversionFailed = envelope.message
    for key, dep in _followers(registry, msg.name, msg.version):
        _mark(registry, key, dep, msg.version, f"model {msg.name}:{msg.version} failed its "
                                              f"ONNX conversion: {msg.reason}")


def _followers(registry: Registry, name: str, version: str) -> list[tuple[str, dict]]:
    """Deployments that follow name@latest and serve a version older than version."""
    return [(r.name, r.body) for r in registry.list("deployment")
            if r.body["model"] == name and not r.body["model_ref"].get("version")
            and int(r.body.get("model_version") or 0) < int(version)]


def _roll(envelope: Envelope, key: str, model: dict, *, registry: Registry,
          blobs: BlobStore, bus: Bus, clock: Clock, scorer) -> None:
    dep = require(registry, "deployment", key).body
    version = model["version"]
    if not (dep.get("model_version") == version and dep["state"] == "Succeeded"):
        try:
            scorer.health(onnx_file(blobs, model["onnx"]["path"]))
        except Exception as exc:  # the new version failed; the old one keeps serving
            _mark(registry, key, dep, version, f"health check failed: {exc}")
            return

        def promote(body: dict) -> None:
            body.update(model_version=version, state="Succeeded", error=None,
                        updated_at=clock.now(), last_rollout={"version": version,
                                                              "state": "Succeeded"})
        dep = update(registry, "deployment", key, "", promote)
    # Promote first, then route: traffic never reaches a deployment that serves nothing
    # yet. Routing is idempotent, so a redelivery after a crash between the two writes
    # still routes it.
    _route_traffic(registry, dep)
    bus.publish(Envelope(ModelDeployed(dep["endpoint"], dep["name"], model["name"], version),
                         id=f"deployed-{key}-{version}", correlation_id=dep["endpoint"],
                         causation_id=envelope.id))


def _route_traffic(registry: Registry, dep: dict) -> None:
    def change(body: dict) -> bool:
        if not dep.get("all_traffic") and body.get("traffic"):
            return False
        body["traffic"] = {dep["name"]: 100}
        return True
    update(registry, "endpoint", dep["endpoint"], "", change)


def _mark(registry: Registry, key: str, dep: dict, version: str, reason: str) -> None:
    """Record a failed roll-out; a deployment that serves an older version stays up."""
    serving = dep.get("model_version")

    def change(body: dict) -> None:
        body["last_rollout"] = {"version": version, "state": "Failed", "error": reason}
        body["error"] = {"message": reason}
        if not serving:
            body["state"] = "Failed"
    update(registry, "deployment", key, "", change)


def _newest(registry: Registry, name: str) -> dict:
    found = latest(registry, "model", name)
    if found is None:
        raise TransientError(f"model {name!r} has no versions yet")
    return found.body


def onnx_file(blobs: BlobStore, path: str) -> Path:
    """A local file for onnxruntime: the blob itself locally, a cached copy otherwise."""
    local = blobs.local_path(path)
    if local is not None and local.is_file():
        return local
    cached = Path(tempfile.gettempdir()) / "mlcycle-models" / path
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(blobs.get(path))
    return cached
