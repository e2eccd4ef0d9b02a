"""The mlcycle code a Batch node runs, shipped as a resource file: a zip of the parts of
`shared` the node needs (the node bootstrap and batch_node), with a __main__.py so that
`python mlcycle.zip ...` runs batch_node.

A resource file rather than a Batch application package: it needs no application
registered on the account, and it is content-addressed like the code snapshots, so each
version of mlcycle is uploaded once and a running task never sees its code change.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import shared
from shared.ports import BlobStore

_ROOT = Path(shared.__file__).resolve().parent
# The node imports nothing else: batch_node, the bootstrap and what they import.
_PARTS = ("__init__.py", "ports.py", "domain", "runner", "adapters/__init__.py",
          "adapters/batch_node.py")
_MAIN = b"""import os, sys
from shared.adapters.batch_node import main
sys.exit(main(sys.argv[1:], package=os.path.abspath(sys.argv[0])))
"""
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed times: the same code always makes the same zip


def node_package() -> bytes:
    """The zip's bytes; the same sources always give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_entry("__main__.py"), _MAIN)
        for path in _sources():
            archive.writestr(_entry(f"shared/{path.relative_to(_ROOT).as_posix()}"),
                             path.read_bytes())
    return buffer.getvalue()


def upload_node_package(blobs: BlobStore) -> str:
    """Upload the zip unless this version is there already; returns its blob path."""
    data = node_package()
    path = f"snapshots/mlcycle-node-{hashlib.sha256(data).hexdigest()[:32]}.zip"
    if not blobs.exists(path):
        blobs.put(path, data)
    return path


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _sources() -> list[Path]:
    found = []
    for part in _PARTS:
        path = _ROOT / part
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found
