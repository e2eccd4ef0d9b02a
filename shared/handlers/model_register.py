"""model-register: store an immutable model version with its lineage."""
from __future__ import annotations

from shared.domain.errors import Conflict, PermanentError
from shared.domain.messages import Envelope, ModelRegistered, RegisterModel
from shared.domain.records import update
from shared.faults import pause_point
from shared.handlers.intake_assets import model_body
from shared.onnx.frameworks import infer_framework
from shared.ports import BlobStore, Bus, Clock, Record, Registry


def register_model(envelope: Envelope, *, blobs: BlobStore, registry: Registry, bus: Bus,
                   clock: Clock) -> None:
    msg: RegisterModel = envelope.message
    version = msg.version or registry.allocate_version("model", msg.name, envelope.id)
    record = registry.get("model", msg.name, version)
    if record is None:
        body = model_body(msg, clock.now(), envelope.id)
        body["version"] = version
        try:
            record = registry.put(Record("model", msg.name, version, body), etag="")
        except Conflict:
            record = registry.get("model", msg.name, version)
    if record.body["state"] == "Registering":
        files = blobs.list(msg.source)
        if not files:
            _fail(registry, msg.name, version, f"model files {msg.source!r} do not exist")
            raise PermanentError(f"model {msg.name}:{version}: {msg.source!r} does not exist")
        single = len(files) == 1 and files[0] == msg.source
        base = msg.source.rsplit("/", 1)[0] if single else msg.source
        target = f"models/{msg.name}/{version}"
        names = [name[len(base):].lstrip("/") for name in files]
        for name, rel in zip(files, names):
            blobs.put(f"{target}/{rel}", blobs.get(name))
            pause_point("model-register", "copying")  # crash tests: a version half stored
        lineage = {"run": msg.run_id or None, "data": _data_lineage(registry, msg.run_id)}
        framework = _framework(record.body, names, lambda rel: blobs.get(f"{target}/{rel}"))
        update(registry, "model", msg.name, version,
               lambda body: body.update(state="Registered", path=target, lineage=lineage,
                                        files=len(files), **framework))
    bus.publish(Envelope(ModelRegistered(msg.name, version),
                         id=f"model-{msg.name}-{version}-registered",
                         correlation_id=msg.run_id or msg.name, causation_id=envelope.id))


def _framework(body: dict, names: list[str], read) -> dict:
    """The fields that say the model's framework when its tags do not: told from its
    files (an MLmodel's flavor, a .pt, a SavedModel...), with how it was told, or why
    it could not be (onnx-convert then gives that reason)."""
    if body.get("framework"):
        return {}
    found = infer_framework(names, read, body.get("type") or "custom_model")
    if not found.framework:
        return {"framework_inferred_from": None, "framework_unknown": found.reason}
    return {"framework": found.framework,
            "framework_version": body.get("framework_version") or found.version,
            "framework_inferred_from": found.reason}


def _data_lineage(registry: Registry, run_id: str) -> list[str]:
    run = registry.get("run", run_id) if run_id else None
    if run is None:
        return []
    return sorted(i["asset"] for i in run.body.get("inputs", {}).values() if i.get("asset"))


def _fail(registry: Registry, name: str, version: str, reason: str) -> None:
    update(registry, "model", name, version,
           lambda body: body.update(state="Failed", error={"message": reason}))
