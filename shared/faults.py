"""Test-only pause points. The crash tests (tests/reliability/test_crash.py) SIGKILL the
local host at exact stages of a run, which no sleep hits reliably: MLCYCLE_PAUSE_AT names
one point, and the thread that reaches it touches the file MLCYCLE_PAUSE_MARKER names and
then blocks for good, until the test kills the process. Unset, as everywhere else, a
point costs one truth test; the variables are read once, at import."""
from __future__ import annotations

import os
import threading
from pathlib import Path

_AT = os.environ.get("MLCYCLE_PAUSE_AT", "")
_MARKER = os.environ.get("MLCYCLE_PAUSE_MARKER", "")


def pause_point(*parts: str) -> None:
    """Block forever here if MLCYCLE_PAUSE_AT is this point's name, its parts joined by
    ":"; else return at once."""
    if not _AT:
        return
    name = ":".join(parts)
    if name != _AT:
        return
    if _MARKER:
        Path(_MARKER).write_text(f"{name} {os.getpid()}\n")
    threading.Event().wait()
