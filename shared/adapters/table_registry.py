"""TableRegistry: the Registry port on Azure Table Storage (azure-data-tables)."""
from __future__ import annotations

import json
import random
import threading
import time
from typing import Callable, Mapping, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import (HttpResponseError, ResourceExistsError,
                                   ResourceModifiedError, ResourceNotFoundError)
from azure.data.tables import TableClient, TableEntity, TableServiceClient, UpdateMode

from shared.domain.errors import Conflict, PermanentError
from shared.ports import FILTERABLE, Record, checked_filter

T = TypeVar("T")

# A string property holds at most 64 KiB (32 K UTF-16 units) and an entity at most 1 MiB.
# Bodies are stored as ASCII JSON (json.dumps escapes the rest), one unit per character.
_PART_CHARS = 32_000
_MAX_PARTS = 15
_ATTEMPTS = 60  # contended writes retry; each try lets at least one writer through
_COLUMN = "f_"  # prefix of a filterable body field's column
_UNVERSIONED = "~"  # RowKey of a record without version: escaping turns any "~" into "~7E"


class TableRegistry:
    """One table (the infra's `registry`), two kinds of partition. A record's partition
    is "r:<kind>:<name>" (escaped), its RowKey the escaped version, its body JSON split
    over as many string properties as it needs. The versions of a kind and name live in
    "v:<kind>:<name>": a counter of the highest version, one entity per idempotency key
    and one per claimed version.

    Etags are Table Storage's own: every write is conditional (If-Match, or insert-only
    for etag ""), so a stale writer gets Conflict. A version is allocated by one entity
    group transaction that bumps the counter under its etag and creates the key's and the
    version's entities: either all three land or none, so the same key always gets the
    same version and two keys never share one. Losers of a race re-read and try again.

    `list` returns records in insertion order: each record keeps the creation stamp of
    its first write (wall-clock nanoseconds, strictly increasing within a process).
    """

    def __init__(self, service: TableServiceClient, *, table: str = "registry") -> None:
        self.service = service
        self.table: TableClient = service.get_table_client(table)
        self._ready = False
        self._lock = threading.Lock()
        self._last_stamp = 0

    @classmethod
    def from_connection_string(cls, connection_string: str, **kw) -> "TableRegistry":
        return cls(TableServiceClient.from_connection_string(connection_string), **kw)

    @classmethod
    def from_account_url(cls, account_url: str, credential, **kw) -> "TableRegistry":
        return cls(TableServiceClient(account_url, credential=credential), **kw)

    # --- records -----------------------------------------------------------------------

    def get(self, kind: str, name: str, version: str = "") -> Record | None:
        entity = self._read(_partition(kind, name), _row(version))
        return _record(entity) if entity is not None else None

    def put(self, record: Record, *, etag: str | None = None) -> Record:
        parts = _body_parts(record)
        if etag == "":
            return self._create(record, parts)
        pk, rk = _partition(record.kind, record.name), _row(record.version)

        def write() -> Record:
            current = self._read(pk, rk)
            if etag and (current is None or current.metadata["etag"] != etag):
                raise Conflict(f"{_label(record)} changed meanwhile")
            if current is None:
                return self._create(record, parts)
            return self._replace(record, parts, current["created"], current.metadata["etag"])

        # An unconditional put is last-writer-wins, but still written under the etag it
        # read, so that it keeps the record's creation stamp; a race just reads again.
        return write() if etag else _retry(write)

    def list(self, kind: str, name: str | None = None, *,
             where: Mapping[str, str] | None = None) -> list[Record]:
        self._ensure_table()
        if name is not None:
            query, params = "PartitionKey eq @pk", {"pk": _partition(kind, name)}
        else:
            # Every record partition of a kind starts with "r:<kind>:"; ";" follows ":".
            query, params = "PartitionKey ge @lo and PartitionKey lt @hi", {
                "lo": f"r:{_escape(kind)}:", "hi": f"r:{_escape(kind)};"}
        for field, value in checked_filter(where).items():  # columns _entity projects
            query += f" and {_COLUMN}{field} eq @{field}"
            params[field] = value
        entities = self.table.query_entities(query, parameters=params)
        return [_record(e) for e in sorted(entities, key=lambda e: e["created"])]

    def delete(self, kind: str, name: str, version: str = "") -> None:
        self._ensure_table()
        self.table.delete_entity(_partition(kind, name), _row(version))

    # --- versions ----------------------------------------------------------------------

    def allocate_version(self, kind: str, name: str, key: str) -> str:
        pk = _versions(kind, name)

        def allocate() -> str:
            known = self._read(pk, _key_row(key))
            if known is not None:
                return known["version"]
            counter = self._read(pk, "counter")
            version = int(counter["top"]) + 1 if counter is not None else 1
            self._claim(pk, key, version, counter)
            return str(version)

        return _retry(allocate)

    def reserve_version(self, kind: str, name: str, version: str, key: str) -> bool:
        """Claim an explicit version (a spec that names one). False if another key has
        it, or if this key already holds another version. Integer versions join the
        sequence, so later automatic versions skip past them; others need no claim."""
        if not version.isdigit():
            return True
        pk, number = _versions(kind, name), int(version)

        def reserve() -> bool:
            owner = self._read(pk, _version_row(number))
            if owner is not None:
                return owner["key"] == key
            if self._read(pk, _key_row(key)) is not None:
                return False
            self._claim(pk, key, number, self._read(pk, "counter"))
            return True

        return _retry(reserve)

    def _claim(self, pk: str, key: str, version: int, counter: TableEntity | None) -> None:
        top = max(version, int(counter["top"]) if counter is not None else 0)
        bump = {"PartitionKey": pk, "RowKey": "counter", "top": str(top)}
        counter_op = ("create", bump) if counter is None else (
            "update", bump, {"mode": UpdateMode.REPLACE, "etag": counter.metadata["etag"],
                             "match_condition": MatchConditions.IfNotModified})
        self.table.submit_transaction([
            counter_op,
            ("create", {"PartitionKey": pk, "RowKey": _key_row(key), "version": str(version)}),
            ("create", {"PartitionKey": pk, "RowKey": _version_row(version), "key": key}),
        ])

    # --- internals ---------------------------------------------------------------------

    def _create(self, record: Record, parts: dict) -> Record:
        self._ensure_table()
        try:
            meta = self.table.create_entity(self._entity(record, parts, self._stamp()))
        except ResourceExistsError:
            raise Conflict(f"{_label(record)} already exists") from None
        return _with_etag(record, meta)

    def _replace(self, record: Record, parts: dict, created: str, etag: str) -> Record:
        try:
            meta = self.table.update_entity(
                self._entity(record, parts, created), mode=UpdateMode.REPLACE, etag=etag,
                match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            raise Conflict(f"{_label(record)} changed meanwhile") from None
        return _with_etag(record, meta)

    @staticmethod
    def _entity(record: Record, parts: dict, created: str) -> dict:
        # The filterable fields are projected into columns of their own, so that `list`
        # filters at the server. Entities are written whole (REPLACE), so they stay true.
        columns = {f"{_COLUMN}{f}": v for f in FILTERABLE
                   if isinstance(v := record.body.get(f), str)}
        return {"PartitionKey": _partition(record.kind, record.name),
                "RowKey": _row(record.version), "kind": record.kind, "name": record.name,
                "version": record.version, "created": created, **columns, **parts}

    def _read(self, pk: str, rk: str) -> TableEntity | None:
        self._ensure_table()
        try:
            return self.table.get_entity(pk, rk)
        except ResourceNotFoundError:
            return None

    def _stamp(self) -> str:
        # Wall-clock order across instances; strictly increasing within this one even when
        # the clock steps back or two writes share a nanosecond.
        with self._lock:
            self._last_stamp = max(time.time_ns(), self._last_stamp + 1)
            return f"{self._last_stamp:020d}"

    def _ensure_table(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                try:
                    self.table.create_table()
                except ResourceExistsError:
                    pass  # the usual case in Azure: the infra made it
                self._ready = True


def _retry(attempt: Callable[[], T]) -> T:
    """Run attempt until no concurrent writer beats it, with jittered backoff."""
    for n in range(_ATTEMPTS):
        try:
            return attempt()
        except (Conflict, HttpResponseError) as exc:
            if isinstance(exc, HttpResponseError) and exc.status_code not in (409, 412):
                raise
            time.sleep(random.uniform(0, min(0.005 * 2 ** n, 0.25)))
    raise Conflict(f"gave up after {_ATTEMPTS} conflicting writes")


def _escape(text: str) -> str:
    """Table keys may not hold / \\ # ? or control characters; ":" separates the kind from
    the name and "~" is the escape itself."""
    return "".join(f"~{ord(c):02X}" if c in '/\\#?~:' or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F
                   else c for c in text)


def _partition(kind: str, name: str) -> str:
    return f"r:{_escape(kind)}:{_escape(name)}"


def _versions(kind: str, name: str) -> str:
    return f"v:{_escape(kind)}:{_escape(name)}"


def _row(version: str) -> str:
    return _escape(version) if version else _UNVERSIONED


def _key_row(key: str) -> str:
    return f"key:{_escape(key)}"


def _version_row(version: int) -> str:
    return f"version:{version}"


def _body_parts(record: Record) -> dict:
    text = json.dumps(record.body, sort_keys=True)
    chunks = [text[i:i + _PART_CHARS] for i in range(0, len(text), _PART_CHARS)] or [""]
    if len(chunks) > _MAX_PARTS:
        raise PermanentError(f"{_label(record)}: a body of {len(text)} characters exceeds "
                             f"Table Storage's entity limit ({_PART_CHARS * _MAX_PARTS}); "
                             "store large data as a blob and keep its path in the record")
    return {"body_parts": len(chunks), **{f"body{i}": c for i, c in enumerate(chunks)}}


def _record(entity: TableEntity) -> Record:
    body = "".join(entity[f"body{i}"] for i in range(entity["body_parts"]))
    return Record(entity["kind"], entity["name"], entity["version"], json.loads(body),
                  entity.metadata["etag"])


def _with_etag(record: Record, meta: dict) -> Record:
    return Record(record.kind, record.name, record.version, record.body, meta["etag"])


def _label(record: Record) -> str:
    return f"{record.kind} {record.name}:{record.version}"
