"""Data, model and compute routes, and the dead letters of the queues."""
from __future__ import annotations

from shared.api.replies import BadRequest, Reply, view
from shared.domain.errors import NotFound
from shared.domain.messages import REGISTRY
from shared.domain.records import require, resolve_version
from shared.ports import BlobStore, Bus, Registry


def list_assets(kind: str, params: dict, *, registry: Registry) -> Reply:
    name = params.get("name") or None
    return Reply(200, {"value": [view(r.body) for r in registry.list(kind, name)]})


def show_asset(kind: str, name: str, version: str, *, registry: Registry) -> Reply:
    if version == "latest":
        return Reply(200, view(resolve_version(registry, kind, name, None).body))
    return Reply(200, view(require(registry, kind, name, version).body))


def list_model_files(name: str, version: str, *, registry: Registry,
                     blobs: BlobStore) -> Reply:
    """The files of a model version (`latest` allowed), relative to its folder: what was
    registered, and `onnx/` once converted."""
    model = show_asset("model", name, version, registry=registry).body
    prefix = _model_folder(model)
    return Reply(200, {"name": model["name"], "version": model["version"],
                       "value": [p[len(prefix):] for p in blobs.list(prefix.rstrip("/"))]})


def get_model_file(name: str, version: str, path: str, *, registry: Registry,
                   blobs: BlobStore) -> Reply:
    model = show_asset("model", name, version, registry=registry).body
    if not path or ".." in path.split("/"):
        raise BadRequest(f"invalid file path {path!r}")
    blob = _model_folder(model) + path
    if not blobs.exists(blob):
        raise NotFound(f"model {model['name']}:{model['version']} has no file {path!r}")
    return Reply(200, blobs.get(blob), {"Content-Type": "application/octet-stream"})


def _model_folder(model: dict) -> str:
    # A version still Registering (or Failed) has no files of its own yet.
    if model.get("state") in ("Registering", "Failed") or not model.get("path"):
        raise NotFound(f"model {model['name']}:{model['version']} has no files "
                       f"(state {model.get('state')})")
    return f"models/{model['name']}/{model['version']}/"


def show_compute(name: str, *, registry: Registry) -> Reply:
    return Reply(200, view(require(registry, "compute", name).body))


def dead_letters(queue: str, *, bus: Bus) -> Reply:
    return Reply(200, {"value": bus.dead_letters(_known(queue))})


def replay_dead_letter(queue: str, message_id: str, *, bus: Bus) -> Reply:
    """Send one dead letter back to its queue with a fresh delivery count; meant for
    after its cause was fixed. Raises NotFound for an unknown queue or id."""
    bus.replay_dead_letter(_known(queue), message_id)
    return Reply(202, {"queue": queue, "id": message_id, "status": "Replayed"})


def _known(queue: str) -> str:
    # A typo in a queue name would otherwise read as "nothing failed".
    queues = sorted({m.queue for m in REGISTRY.values() if m.queue})
    if queue not in queues:
        raise NotFound(f"no queue {queue!r}; the queues are {queues}")
    return queue
