"""Folders and files readable by their owner alone, whatever the umask.

The home ($MLCYCLE_HOME: the key, the TLS key) and the data root (the registry, the bus,
every blob and run) belong to the user who runs mlcycle; on a shared machine a umask of
022 or 000 would let anyone read them. What mlcycle creates there starts private; what
already exists is left as its owner made it."""
from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create path and its missing parents with mode 0700; returns path."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # made meanwhile by another thread or process: theirs to keep
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode went through the umask
    return path


def private_file(path: Path) -> Path:
    """Create path empty with mode 0600 unless it exists (SQLite gives the journal and
    WAL files of a database the mode of the database file); returns path."""
    path = Path(path)
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    return path
