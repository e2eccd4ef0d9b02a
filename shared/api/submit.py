"""POST routes that take a spec: the bundle the CLI uploaded is unpacked and its spec
goes through the same intake as a dropped spec file."""
from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from pathlib import Path, PurePosixPath

from shared.api.replies import BadRequest, Reply, parse_json, view
from shared.handlers.intake import accept_spec
from shared.runner.snapshot import extract_snapshot
from shared.runner.unpack import TooLarge, UnpackLimits, refuse_oversized

MAX_BUNDLE = 512 * 1024 * 1024
CREATED = {"job": 201, "compute": 201, "endpoint": 201, "data": 202, "model": 202,
           "deployment": 202, "environment": 201}


def store_bundle(data: bytes, *, blobs, settings=None) -> Reply:
    """Store an uploaded bundle under its sha256, refusing one whose headers say it
    unpacks beyond the limits (413 too large, 400 too many files) before it is kept."""
    if not data:
        raise BadRequest("the snapshot body is empty")
    if len(data) > MAX_BUNDLE:
        raise TooLarge(f"the snapshot is larger than {MAX_BUNDLE} bytes")
    refuse_oversized(data, unpack_limits(settings), what="bundle")
    digest = hashlib.sha256(data).hexdigest()
    if not blobs.exists(f"bundles/{digest}.tar.gz"):
        blobs.put(f"bundles/{digest}.tar.gz", data)
    return Reply(201, {"id": digest})


def submit(kind: str, body: bytes, *, request_id: str | None, ports: dict,
           **extra) -> Reply:
    request = parse_json(body)
    snapshot, spec_path = request.get("snapshot"), request.get("spec_path")
    overrides = request.get("set") or []
    if not isinstance(snapshot, str) or not snapshot.isalnum():
        raise BadRequest("'snapshot' must be the id POST /api/snapshots returned")
    if not isinstance(spec_path, str) or not spec_path or ".." in PurePosixPath(spec_path).parts:
        raise BadRequest("'spec_path' must be the spec's relative path inside the snapshot")
    if not isinstance(overrides, list) or not all(isinstance(s, str) for s in overrides):
        raise BadRequest("'set' must be a list of 'key=value' strings")
    if "all_traffic" in request:
        extra["all_traffic"] = bool(request["all_traffic"])
    blobs = ports["blobs"]
    with tempfile.TemporaryDirectory(prefix="mlcycle-bundle-") as tmp:
        root = Path(tmp)
        extract_snapshot(blobs.get(f"bundles/{snapshot}.tar.gz"), root,
                         unpack_limits(ports.get("settings")))
        spec_file = root / spec_path
        if not spec_file.is_file():
            raise BadRequest(f"the snapshot has no file {spec_path!r}")
        _, record = accept_spec(spec_file, root=root, key=request_id or uuid.uuid4().hex,
                                overrides=overrides, kind=kind, blobs=blobs,
                                registry=ports["registry"], bus=ports["bus"],
                                clock=ports["clock"], **extra)
    return Reply(CREATED[kind], view(record))


def unpack_limits(settings) -> UnpackLimits:
    """The settings' bounds on unpacking; the environment's where no settings are given."""
    if settings is None:
        return UnpackLimits.from_env(os.environ)
    return UnpackLimits(settings.max_unpacked_bytes, settings.max_unpacked_members)
