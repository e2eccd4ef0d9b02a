"""Data, model and compute routes."""
from __future__ import annotations

from shared.api.replies import Reply, view
from shared.domain.records import require, resolve_version
from shared.ports import Bus, Registry


def list_assets(kind: str, params: dict, *, registry: Registry) -> Reply:
    name = params.get("name") or None
    return Reply(200, {"value": [view(r.body) for r in registry.list(kind, name)]})


def show_asset(kind: str, name: str, version: str, *, registry: Registry) -> Reply:
    if version == "latest":
        return Reply(200, view(resolve_version(registry, kind, name, None).body))
    return Reply(200, view(require(registry, kind, name, version).body))


def show_compute(name: str, *, registry: Registry) -> Reply:
    return Reply(200, view(require(registry, "compute", name).body))


def dead_letters(queue: str, *, bus: Bus) -> Reply:
    return Reply(200, {"value": bus.dead_letters(queue)})
