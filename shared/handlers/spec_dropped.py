"""The drop zone: a YAML spec written to the specs container (its code beside it) is
validated and acted on; a refused one gets <name>.error.json beside it, nothing else.

The trigger fires at least once per write, so what was done is remembered under a key of
the content: the spec's bytes and those of each local file and folder it names. The same
spec dropped again beside changed code is new work; the trigger firing again for the
same content finds what was done, and does nothing more."""
from __future__ import annotations

import hashlib
import json
import os
import posixpath
import tempfile
from dataclasses import fields, is_dataclass
from pathlib import Path

from shared.domain.errors import Conflict, PermanentError
from shared.handlers.intake import accept_spec
from shared.ports import BlobStore, Bus, Clock, Record, Registry
from shared.runner.snapshot import snapshot_dir

SPEC_SUFFIXES = (".yml", ".yaml")
ERROR_SUFFIX = ".error.json"


def error_path(blob_path: str) -> str:
    stem, _ = posixpath.splitext(blob_path)
    return f"{stem}{ERROR_SUFFIX}"


def accept_dropped_spec(blob_path: str, data: bytes, *, blobs: BlobStore,
                        registry: Registry, bus: Bus, clock: Clock) -> dict | None:
    """Returns the intake record, or None for a file that is not a spec (a script, a
    conda file in a code folder)."""
    from shared.specs import spec_kind

    if not blob_path.endswith(SPEC_SUFFIXES):
        return None
    ports = {"blobs": blobs, "registry": registry, "bus": bus, "clock": clock}
    key = content_key(blob_path, data)  # what a spec that is not even YAML is keyed on
    try:
        if spec_kind(data.decode("utf-8", errors="replace")) is None:
            return None
        folder = posixpath.dirname(blob_path)
        with tempfile.TemporaryDirectory(prefix="mlcycle-spec-") as tmp:
            root = Path(tmp) / "drop"
            _download(blobs, folder, root)
            spec_file = root / posixpath.relpath(blob_path, folder)
            key = content_key(blob_path, data, *_named_content(spec_file, root))
            done = registry.get("intake", key)
            if done is not None:  # the trigger fired again for the same content
                _publish_error(blob_path, done.body, blobs)
                return done.body
            kind, body = accept_spec(spec_file, root=root, key=key, **ports)
    # Every permanent refusal, not only a schema's: a deployment naming an endpoint that
    # does not exist (NotFound) must get its error file too, not a trigger retried in vain.
    except PermanentError as exc:
        outcome = {"spec": blob_path, "error": {"code": exc.code, "message": str(exc)},
                   "time": clock.now()}
        recorded = _remember(registry, key, outcome)
        _publish_error(blob_path, recorded, blobs)
        return recorded
    blobs.delete(error_path(blob_path))
    return _remember(registry, key, {"spec": blob_path, "kind": kind,
                                     "name": body.get("name", ""),
                                     "version": body.get("version", "")})


def content_key(blob_path: str, data: bytes, *named: str) -> str:
    """The intake key of a dropped spec: its place, its bytes, and `named`, one
    "path:digest" per local file or folder it names."""
    digest = hashlib.sha256(blob_path.encode() + b"\0" + data)
    for item in named:
        digest.update(b"\0" + item.encode())
    return digest.hexdigest()


def _remember(registry: Registry, key: str, outcome: dict) -> dict:
    """The first outcome recorded for a key stays: a delivery racing this one reads it."""
    try:
        return registry.put(Record("intake", key, "", outcome), etag="").body
    except Conflict:
        return registry.get("intake", key).body


def _publish_error(blob_path: str, outcome: dict, blobs: BlobStore) -> None:
    """Written from the refusal once it is on record, never before: whoever sees the
    file finds the refusal remembered (a trigger firing again meanwhile would otherwise
    refuse afresh and rewrite it), and a delivery after a crash between the two writes
    it then. Left alone when it already says the same."""
    if "error" not in outcome:
        return
    # Sorted keys: the same bytes whether the outcome was just made or read back.
    report = json.dumps(outcome, indent=2, sort_keys=True).encode()
    path = error_path(blob_path)
    if not blobs.exists(path) or blobs.get(path) != report:
        blobs.put(path, report)


def _download(blobs: BlobStore, folder: str, root: Path) -> None:
    """The spec's folder, without the drop zone's own error reports: they are no part of
    what a spec names (a `code: .` folder would otherwise change with each report)."""
    blobs.download(folder, root)
    for report in root.rglob(f"*{ERROR_SUFFIX}"):
        stem = report.name.removesuffix(ERROR_SUFFIX)
        if any((report.parent / f"{stem}{suffix}").exists() for suffix in SPEC_SUFFIXES):
            report.unlink()


def _named_content(spec_file: Path, root: Path) -> list[str]:
    """"path:digest" of each local file and folder the spec names. A spec that cannot be
    loaded names nothing for sure: its whole folder counts, so that fixing any of it
    (adding the missing code folder) is tried afresh."""
    from shared.specs import load_spec

    try:
        paths = _local_paths(load_spec(spec_file, root=root))
        return [f"{os.path.relpath(p, root)}:{_digest(p)}" for p in paths]
    except PermanentError:
        return [f".:{_folder_digest(root)}"]


def _local_paths(spec) -> list[Path]:
    """Every Path among the spec's fields but its own file: what referenced_paths lists
    (code, local inputs, conda file, a data or model path) and any other kind's (a
    deployment's scoring code and inline model)."""
    found, pending = set(), [spec]
    while pending:
        node = pending.pop()
        if isinstance(node, Path):
            found.add(node)
        elif is_dataclass(node):
            pending += [getattr(node, f.name) for f in fields(node) if f.name != "source"]
        elif isinstance(node, dict):
            pending += node.values()
        elif isinstance(node, (list, tuple)):
            pending += node
    return sorted(found)


def _digest(path: Path) -> str:
    if path.is_dir():
        return snapshot_dir(path)[0]  # the snapshot's own identity: .amlignore honoured
    return _file_digest(path) if path.is_file() else "missing"


def _folder_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for here, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            path = Path(here) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                digest.update(f"{rel}->{os.readlink(path)}\0".encode())
            elif path.is_file():
                digest.update(f"{rel}:{_file_digest(path)}\0".encode())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
