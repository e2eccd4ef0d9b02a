"""Local copies of converted models for onnxruntime, which reads files, not blobs.

Locally the blob is a file already. Elsewhere (Azure) the model is downloaded once into a
cache folder shared by every thread and process of the worker, so a copy appears there
only whole: it is written beside its name and renamed into place. A copy cut short (a
full disk, a worker killed mid-write) never takes the name, and a reader never sees a
file still being written."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from shared.ports import BlobStore


def cache_root() -> Path:
    return Path(tempfile.gettempdir()) / "mlcycle-models"


def onnx_file(blobs: BlobStore, path: str) -> Path:
    """A local file holding the blob at `path`: the blob itself where it lies on this
    machine, else a cached copy (downloaded now if there is none yet).

    Raises: NotFound when the blob does not exist; whatever the store raises when it
        cannot be read now (a transient failure: the caller retries).
    """
    local = blobs.local_path(path)
    if local is not None and local.is_file():
        return local
    cached = cache_root() / path
    if cached.is_file():
        return cached
    data = blobs.get(path)
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=cached.parent, prefix=f".{cached.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(partial, cached)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return cached
