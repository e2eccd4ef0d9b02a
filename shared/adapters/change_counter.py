"""A counter of registry writes that every process on the data root shares: eight bytes
in a file beside the SQLite database, mapped into memory. Readers that cache what they
read (scoring caches its endpoint's routing) compare it on every request for the price
of reading memory, where asking SQLite (PRAGMA data_version) costs a statement, and the
GIL released and taken back around it."""
from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
from pathlib import Path

from shared.private_files import private_file

_SIZE = 8
_FORMAT = "<Q"


class ChangeCounter:
    def __init__(self, path: Path) -> None:
        path = Path(path)
        private_file(path)
        # A file object, not a bare descriptor: closed with the registry that owns it.
        self._file = open(path, "r+b")
        if os.fstat(self._file.fileno()).st_size < _SIZE:
            os.ftruncate(self._file.fileno(), _SIZE)  # zeros: a fresh counter
        self._map = mmap.mmap(self._file.fileno(), _SIZE)
        self._lock = threading.Lock()

    def value(self) -> int:
        return struct.unpack_from(_FORMAT, self._map)[0]

    def bump(self) -> None:
        """Count one write. Called after the write is committed, so a reader that saw
        the old count before reading has read at worst the old record, and sees the
        count move at its next look."""
        # The file lock makes read-add-write one step across processes: two writers
        # never both write the same next value, which a reader could take for no change.
        with self._lock:
            fcntl.flock(self._file, fcntl.LOCK_EX)
            try:
                struct.pack_into(_FORMAT, self._map, 0, (self.value() + 1) % 2**64)
            finally:
                fcntl.flock(self._file, fcntl.LOCK_UN)
