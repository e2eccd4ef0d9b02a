"""Content-addressed code snapshots: a deterministic tar.gz of a code folder.

The same files give the same bytes (sorted entries, zeroed times and owners, normalised
modes, a gzip header without name or time), so the sha256 names the content and two
uploads of unchanged code land on the same blob.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from pathlib import Path

from shared.domain.errors import PermanentError
from shared.runner.ignore import IgnoreRules
from shared.runner.unpack import UnpackLimits, unpack


def snapshot_dir(src: Path) -> tuple[str, bytes]:
    """Pack a code folder, honouring its `.amlignore` (else `.gitignore`).

    Parameters: src: the code folder.
    Returns: (sha256 hex digest of the archive, the archive's bytes).
    Raises: PermanentError when src is not a folder or a symlink in it points outside it.
    """
    root = Path(src).resolve()
    if not root.is_dir():
        raise PermanentError(f"code folder {src} does not exist")
    rules = IgnoreRules.for_folder(root)
    raw = io.BytesIO()
    # mtime=0 and an empty filename keep the gzip header free of anything but content.
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
            # Sorted by path: a folder always comes before what it holds.
            for rel, path in sorted(_walk(root, rules)):
                _add(tar, root, rel, path)
    data = raw.getvalue()
    return hashlib.sha256(data).hexdigest(), data


def _walk(root: Path, rules: IgnoreRules):
    """(relative posix path, absolute path) of every kept entry."""
    stack = [""]
    while stack:
        folder = stack.pop()
        base = root / folder if folder else root
        for entry in os.scandir(base):
            rel = f"{folder}/{entry.name}" if folder else entry.name
            # A symlinked folder is stored as a link, never descended into.
            is_dir = entry.is_dir(follow_symlinks=False)
            if rules.ignored(rel, is_dir):
                continue
            yield rel, Path(entry.path)
            if is_dir:
                stack.append(rel)


def _add(tar: tarfile.TarFile, root: Path, rel: str, path: Path) -> None:
    info = tarfile.TarInfo(rel)
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    if path.is_symlink():
        target = os.readlink(path)
        resolved = (path.parent / target).resolve()
        if not resolved.is_relative_to(root):
            raise PermanentError(f"symlink {rel} points outside the code folder")
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
        tar.addfile(info)
    elif path.is_dir():
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    elif path.is_file():
        executable = os.access(path, os.X_OK)
        info.mode = 0o755 if executable else 0o644
        info.size = path.stat().st_size
        with open(path, "rb") as f:
            tar.addfile(info, f)
    # Sockets, fifos and devices are no part of a code folder: left out.


def extract_snapshot(data: bytes, dest: Path, limits: UnpackLimits | None = None) -> None:
    """Unpack a snapshot (or a CLI bundle) into dest, refusing anything that would land
    or point outside it, and archives that unpack beyond limits (shared.runner.unpack).

    Parameters: data: the archive's bytes; dest: the folder to fill (created if missing);
    limits: None reads MLCYCLE_MAX_UNPACKED_BYTES / _MEMBERS from the environment.
    Raises: PermanentError for a malformed, unsafe or oversized archive (TooLarge,
    TooManyMembers); UnsafeTarfile where tarfile has no data filter.
    """
    unpack(data, dest, limits=limits, what="code snapshot")
