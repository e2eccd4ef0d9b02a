"""The drop zone: a YAML spec written to the specs container (its code beside it) is
validated and acted on; a refused one gets <name>.error.json beside it, nothing else."""
from __future__ import annotations

import hashlib
import json
import posixpath
import tempfile
from pathlib import Path

from shared.domain.errors import PermanentError
from shared.handlers.intake import accept_spec
from shared.ports import BlobStore, Bus, Clock, Record, Registry

SPEC_SUFFIXES = (".yml", ".yaml")


def error_path(blob_path: str) -> str:
    stem, _ = posixpath.splitext(blob_path)
    return f"{stem}.error.json"


def accept_dropped_spec(blob_path: str, data: bytes, *, blobs: BlobStore,
                        registry: Registry, bus: Bus, clock: Clock) -> dict | None:
    """Returns the intake record, or None for a file that is not a spec (a script, a
    conda file in a code folder)."""
    from shared.specs import spec_kind

    if not blob_path.endswith(SPEC_SUFFIXES):
        return None
    key = hashlib.sha256(blob_path.encode() + b"\0" + data).hexdigest()
    done = registry.get("intake", key)
    if done is not None:
        return done.body  # the trigger fired again for the same content
    try:
        if spec_kind(data.decode("utf-8", errors="replace")) is None:
            return None
        outcome = _accept(blob_path, key, blobs=blobs, registry=registry, bus=bus, clock=clock)
        blobs.delete(error_path(blob_path))
    # Every permanent refusal, not only a schema's: a deployment naming an endpoint that
    # does not exist (NotFound) must get its error file too, not a trigger retried in vain.
    except PermanentError as exc:
        outcome = {"spec": blob_path, "error": {"code": exc.code, "message": str(exc)},
                   "time": clock.now()}
        blobs.put(error_path(blob_path), json.dumps(outcome, indent=2).encode())
    return registry.put(Record("intake", key, "", outcome)).body


def _accept(blob_path: str, key: str, **ports) -> dict:
    folder = posixpath.dirname(blob_path)
    with tempfile.TemporaryDirectory(prefix="mlcycle-spec-") as tmp:
        root = Path(tmp) / "drop"
        ports["blobs"].download(folder, root)
        spec_file = root / posixpath.relpath(blob_path, folder)
        kind, body = accept_spec(spec_file, root=root, key=key, **ports)
    name = body.get("name", "")
    return {"spec": blob_path, "kind": kind, "name": name, "version": body.get("version", "")}
