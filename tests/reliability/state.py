"""The whole observable state of a local mlcycle, as a plain value two moments can be
compared by: registry records, blob contents, what the bus holds and has journaled, and
the compute's node folders. Read straight from the adapters' files, so nothing a port
hides (an etag, a reserved version, a scheduled message) escapes the comparison."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from shared.adapters.sqlite_bus import SqliteBus
from shared.bootstrap import Container, bootstrap
from shared.settings import Settings

FIXED_NOW = "2026-01-01T00:00:00+00:00"


class FixedClock:
    """A clock that never moves: two worlds fed the same messages stamp the same times,
    so their states compare equal field by field."""

    def now(self) -> str:
        return FIXED_NOW


class ExpiringLocks:
    """The bus's time, which a test moves past the lock timeout to make the bus hand a
    message it already delivered out again, as at-least-once delivery does when a
    handler finishes but its completion is never recorded."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def expire(self, lock_timeout_s: float) -> None:
        self.offset += lock_timeout_s + 1


def local_world(root: Path) -> tuple[Container, ExpiringLocks]:
    """Real local adapters, with a fixed clock and a bus whose locks a test can expire."""
    settings = Settings(root / "data", retry_backoff_s=0.01, lock_timeout_s=30.0)
    container = bootstrap(settings)
    locks = ExpiringLocks()
    container.bus = SqliteBus(settings.bus_path, lock_timeout_s=settings.lock_timeout_s,
                              backoff_s=0.01, now=locks)
    container.clock = FixedClock()
    return container, locks


def snapshot(container: Container, *, skip_ids: frozenset = frozenset(),
             work: bool = True) -> dict:
    """Everything a duplicate could have changed. `skip_ids`: envelope ids the test
    itself injected, whose own journal entry and queue row are not the handler's doing."""
    settings = container.settings
    state = {"registry": _registry(settings.registry_path),
             "blobs": _files(settings.blob_root), "bus": _bus(settings.bus_path, skip_ids)}
    if work:
        state["work"] = _files(settings.work_root, skip=(".submit.lock",))
    return state


def differences(before: dict, after: dict) -> list[str]:
    """One line per entry that was added, removed or changed, section by section."""
    found = []
    for section in sorted(set(before) | set(after)):
        a, b = before.get(section, {}), after.get(section, {})
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                found.append(f"{section} {key}: {_short(a.get(key))} -> {_short(b.get(key))}")
    return found


def masked(state: dict, keys: tuple[str, ...]) -> dict:
    """The state with the named body fields set to "<set>" where they hold a value: for
    times that come from a process's own clock (a node's start), which differ between
    two worlds however they were fed."""
    def mask(value):
        if isinstance(value, dict):
            return {k: "<set>" if k in keys and v is not None else mask(v)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [mask(v) for v in value]
        return value
    return {**state, "registry": {k: mask(v) for k, v in state["registry"].items()}}


def _registry(path: Path) -> dict:
    with closing(sqlite3.connect(path)) as db:
        records = {("record", k, n, v): json.loads(body) for k, n, v, body in
                   db.execute("SELECT kind, name, version, body FROM records")}
        versions = {("version", k, n, key): v for k, n, key, v in
                    db.execute("SELECT kind, name, key, version FROM versions")}
    return {**records, **versions}


def _bus(path: Path, skip_ids: frozenset) -> dict:
    with closing(sqlite3.connect(path)) as db:
        journal = {("event", i): _payload(body) for i, body in
                   db.execute("SELECT id, body FROM events") if i not in skip_ids}
        queued = {("queued", q, i): t for q, i, t in
                  db.execute("SELECT queue, id, type FROM messages") if i not in skip_ids}
        dead = {("dead", q, i): reason for q, i, reason in
                db.execute("SELECT queue, id, reason FROM dead_letters")}
    return {**journal, **queued, **dead}


def _payload(body: str) -> dict:
    envelope = json.loads(body)
    envelope.pop("created_at")  # the publisher's wall clock, not state
    return envelope


def _files(root: Path, skip: tuple[str, ...] = ()) -> dict:
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name not in skip}


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 160 else text[:157] + "..."
