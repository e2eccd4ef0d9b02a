"""The envelope every ARM resource comes in, and the paged list of them."""
from __future__ import annotations

from shared.arm.scope import PROVIDER, Scope

ACTOR = "mlcycle"


def system_data(created_at: str | None, modified_at: str | None = None) -> dict:
    created_at = created_at or "1970-01-01T00:00:00+00:00"
    return {"createdAt": created_at, "createdBy": ACTOR, "createdByType": "User",
            "lastModifiedAt": modified_at or created_at, "lastModifiedBy": ACTOR,
            "lastModifiedByType": "User"}


def resource(scope: Scope, kind_path: tuple[str, ...], properties: dict, *,
             created_at: str | None = None, modified_at: str | None = None,
             extra: dict | None = None) -> dict:
    """kind_path: the id's segments below the workspace, e.g. ("jobs", name) or
    ("models", name, "versions", version); the type follows from their odd places."""
    kinds = "/".join(kind_path[0::2])
    return {"id": scope.id(*kind_path), "name": kind_path[-1],
            "type": f"{PROVIDER}/workspaces/{kinds}", "properties": properties,
            "systemData": system_data(created_at, modified_at), **(extra or {})}


def page(items: list[dict]) -> dict:
    """One page holds everything: no nextLink, so the SDK's pager stops after it."""
    return {"value": items}
