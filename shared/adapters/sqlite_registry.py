"""SqliteRegistry: the embedded twin of the Table Storage registry."""
from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Mapping

from shared.adapters.change_counter import ChangeCounter
from shared.domain.errors import Conflict
from shared.ports import Record, checked_filter
from shared.private_files import private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
    etag TEXT NOT NULL, body TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (kind, name, version));
CREATE TABLE IF NOT EXISTS versions (
    kind TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,
    PRIMARY KEY (kind, name, key), UNIQUE (kind, name, version));
"""


class SqliteRegistry:
    """Records in one SQLite file, safe across threads and processes. Each record has
    an etag that changes on every write; a put with a stale etag raises Conflict, so
    read-modify-write callers never lose an update. Version numbers are allocated in an
    IMMEDIATE transaction, keyed by the caller's idempotency key."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        private_file(self.path)
        self._local = threading.local()
        self._changes = ChangeCounter(self.path.with_name(self.path.name + ".changes"))
        with self._conn() as db:
            db.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        return db

    def get(self, kind: str, name: str, version: str = "") -> Record | None:
        row = self._conn().execute(
            "SELECT etag, body FROM records WHERE kind=? AND name=? AND version=?",
            (kind, name, version)).fetchone()
        return Record(kind, name, version, json.loads(row[1]), row[0]) if row else None

    def put(self, record: Record, *, etag: str | None = None) -> Record:
        db = self._conn()
        new_etag = uuid.uuid4().hex
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT etag FROM records WHERE kind=? AND name=? AND version=?",
                (record.kind, record.name, record.version)).fetchone()
            if etag == "" and row is not None:
                raise Conflict(f"{record.kind} {record.name}:{record.version} already exists")
            if etag and (row is None or row[0] != etag):
                raise Conflict(f"{record.kind} {record.name}:{record.version} changed meanwhile")
            db.execute(
                "INSERT INTO records (kind, name, version, etag, body, seq) VALUES "
                "(?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM records)) "
                "ON CONFLICT (kind, name, version) DO UPDATE SET etag=excluded.etag, "
                "body=excluded.body",
                (record.kind, record.name, record.version, new_etag,
                 json.dumps(record.body, sort_keys=True)))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._wrote()
        return Record(record.kind, record.name, record.version, record.body, new_etag)

    def generation(self) -> int:
        """A token that changes whenever a record may have changed, for read caches
        (scoring reads its endpoint's routing on every request): the count of writes to
        this file, by any thread or process, that every writer bumps after committing."""
        return self._changes.value()

    def _wrote(self) -> None:
        self._changes.bump()

    def list(self, kind: str, name: str | None = None, *,
             where: Mapping[str, str] | None = None) -> list[Record]:
        sql = "SELECT name, version, etag, body FROM records WHERE kind=?"
        args: tuple = (kind,)
        if name is not None:
            sql, args = sql + " AND name=?", (*args, name)
        for field, value in checked_filter(where).items():
            sql, args = sql + f" AND json_extract(body, '$.{field}') = ?", (*args, value)
        rows = self._conn().execute(sql + " ORDER BY seq", args).fetchall()
        return [Record(kind, n, v, json.loads(b), e) for n, v, e, b in rows]

    def allocate_version(self, kind: str, name: str, key: str) -> str:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT version FROM versions WHERE kind=? AND name=? AND key=?",
                             (kind, name, key)).fetchone()
            if row is None:
                top = db.execute("SELECT COALESCE(MAX(version), 0) FROM versions "
                                 "WHERE kind=? AND name=?", (kind, name)).fetchone()[0]
                row = (top + 1,)
                db.execute("INSERT INTO versions (kind, name, key, version) VALUES (?, ?, ?, ?)",
                           (kind, name, key, row[0]))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return str(row[0])

    def reserve_version(self, kind: str, name: str, version: str, key: str) -> bool:
        """Claim an explicit version (a spec that names one). False if another key has it.
        Integer versions join the sequence so later automatic versions skip past them."""
        if not version.isdigit():
            return True
        db = self._conn()
        try:
            db.execute("INSERT INTO versions (kind, name, key, version) VALUES (?, ?, ?, ?)",
                       (kind, name, key, int(version)))
            return True
        except sqlite3.IntegrityError:
            row = db.execute("SELECT key FROM versions WHERE kind=? AND name=? AND version=?",
                             (kind, name, int(version))).fetchone()
            return row is not None and row[0] == key

    def delete(self, kind: str, name: str, version: str = "") -> None:
        self._conn().execute("DELETE FROM records WHERE kind=? AND name=? AND version=?",
                             (kind, name, version))
        self._wrote()
