"""Read-modify-write of registry records, with the retries optimistic concurrency needs."""
from __future__ import annotations

from typing import Callable

from shared.domain.errors import Conflict, NotFound
from shared.ports import Record, Registry

KINDS = {"data": "data asset", "model": "model", "run": "job", "compute": "compute",
         "endpoint": "endpoint", "deployment": "deployment", "environment": "environment"}


def require(registry: Registry, kind: str, name: str, version: str = "") -> Record:
    record = registry.get(kind, name, version)
    if record is None:
        label = f"{name}:{version}" if version else name
        raise NotFound(f"{KINDS.get(kind, kind)} {label!r} does not exist")
    return record


def update(registry: Registry, kind: str, name: str, version: str,
           change: Callable[[dict], bool | None], attempts: int = 20) -> dict:
    """Apply `change` to the stored body until the write wins. `change` edits the dict in
    place and returns False to leave the record as it is (nothing to do)."""
    for _ in range(attempts):
        record = require(registry, kind, name, version)
        body = dict(record.body)
        if change(body) is False:
            return record.body
        try:
            return registry.put(Record(kind, name, version, body), etag=record.etag).body
        except Conflict:
            continue
    raise Conflict(f"{kind} {name}:{version} kept changing; giving up after {attempts} tries")


def latest(registry: Registry, kind: str, name: str,
           accept: Callable[[dict], bool] = lambda body: True) -> Record | None:
    """The highest version of name whose body passes `accept`."""
    candidates = [r for r in registry.list(kind, name) if accept(r.body)]
    return max(candidates, key=lambda r: version_order(r.version), default=None)


def resolve_version(registry: Registry, kind: str, name: str, version: str | None,
                    label: str | None = None) -> Record:
    if version:
        return require(registry, kind, name, version)
    found = latest(registry, kind, name)
    if found is None:
        raise NotFound(f"{KINDS[kind]} {name!r} has no versions")
    return found


def version_order(version: str) -> tuple:
    """What versions sort by, as `latest` picks them: numbers in numeric order, then
    named versions ("1.1", "v2") in text order. Comparable for any two versions."""
    return (0, int(version), "") if version.isdigit() else (1, 0, version)
