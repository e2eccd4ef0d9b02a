"""Local files named by a spec become content-addressed blobs before anything else runs."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from shared.domain.errors import InvalidSpec
from shared.ports import BlobStore
from shared.runner.snapshot import snapshot_dir
from shared.runner.unpack import UnpackLimits, refuse_oversized


def upload_path(path: Path, blobs: BlobStore) -> tuple[str, str]:
    """Store a local file or folder under uploads/<sha256>/ once.

    Returns:
        (blob path, "file" | "folder"): the file's blob, or the folder's prefix.
    Raises:
        InvalidSpec: the path does not exist.
    """
    if path.is_file():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        target = f"uploads/{digest}/{path.name}"
        if not blobs.exists(target):
            blobs.put(target, path.read_bytes())
        return target, "file"
    if path.is_dir():
        digest, _ = snapshot_dir(path)
        prefix = f"uploads/{digest}"
        if not blobs.list(prefix):
            blobs.upload_dir(path, prefix)
        return prefix, "folder"
    raise InvalidSpec(f"local path {str(path)!r} does not exist")


def upload_code(path: Path, blobs: BlobStore) -> str:
    """The code folder as a content-addressed snapshot, honouring .amlignore/.gitignore.

    Raises:
        InvalidSpec: no such folder. TooLarge, TooManyMembers: the snapshot would unpack
            beyond the limits every node holds it to (MLCYCLE_MAX_UNPACKED_*).
    """
    if not path.is_dir():
        raise InvalidSpec(f"code folder {str(path)!r} does not exist")
    digest, data = snapshot_dir(path)
    # Refused now, with the spec, rather than by each node that would unpack it.
    refuse_oversized(data, UnpackLimits.from_env(os.environ), what="code folder")
    target = f"snapshots/{digest}.tar.gz"
    if not blobs.exists(target):
        blobs.put(target, data)
    return target


def empty_snapshot(blobs: BlobStore) -> str:
    """A job without `code:` still runs in a (empty) code folder."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return upload_code(Path(tmp), blobs)
