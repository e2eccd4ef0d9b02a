"""The SDK door's route table: each module lists its (method, path template, handler)
rows in ROUTES; a request is matched here and its handler called with the ports."""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cache
from typing import Callable

from shared.api.replies import Reply, error, guarded
from shared.arm.call import Call, require_key
from shared.arm.scope import PROVIDER, Scope
from shared.domain.errors import NotFound
from shared.localhost.triggers import route_pattern

# Modules with a ROUTES list, by family: "arm" paths follow a workspace scope, "history"
# paths follow run history's /history/v1.0 plus a workspace scope, "storage" paths are
# the Blob API's and checked by signature, not by key, as a SAS URL is.
FAMILIES = {
    "arm": ("workspace", "datastores", "codes", "environments", "jobs", "assets", "computes",
            "operations", "endpoints", "deployments"),
    "history": ("history",),
    "storage": ("storage",),
}
_SCOPE = re.compile(r"subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
                    + re.escape(PROVIDER) + r"/workspaces/(?P<ws>[^/]+)(?:/(?P<rest>.*))?$",
                    re.IGNORECASE)

Handler = Callable[..., Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    handler: Handler


def dispatch(family: str, call: Call, ports: dict) -> Reply:
    """Answer one request of a family; every failure becomes the ARM error shape
    `{"error": {"code", "message"}}`, which the SDK's HttpResponseError reads."""
    return guarded(lambda: _dispatch(family, call, ports))


def _dispatch(family: str, call: Call, ports: dict) -> Reply:
    settings = ports["settings"]
    if family != "storage":
        require_key(call, settings.api_key)
    path = call.path.strip("/")
    kwargs: dict = {}
    if family in ("arm", "history"):
        if family == "history":
            path = re.sub(r"^history/v1\.0/", "", path, flags=re.IGNORECASE)
        scope_match = _SCOPE.match(path)
        if scope_match is None:
            raise NotFound(f"no resource {call.method} /{call.path}")
        scope = Scope(scope_match["sub"], scope_match["rg"], scope_match["ws"])
        if scope.workspace.lower() != settings.workspace_name.lower():
            raise NotFound(f"workspace {scope.workspace!r} does not exist; this host serves "
                           f"workspace {settings.workspace_name!r}")
        kwargs["scope"] = Scope(scope.subscription, scope.resource_group,
                                settings.workspace_name)
        path = scope_match["rest"] or ""
    wrong_method = False
    for route in _routes(family):
        m = route.pattern.match(path)
        if m is None:
            continue
        if route.method != call.method:
            wrong_method = True
            continue
        return route.handler(call, ports, **kwargs, **m.groupdict())
    if wrong_method:
        return error(405, "MethodNotAllowed", f"{call.method} is not allowed on /{call.path}")
    raise NotFound(f"no resource {call.method} /{call.path}")


@cache
def _routes(family: str) -> tuple[Route, ...]:
    rows = []
    for name in FAMILIES[family]:
        module = importlib.import_module(f"shared.arm.{name}")
        rows += [Route(m, route_pattern(t, ignore_case=True, empty_rest=True), h)
                 for m, t, h in module.ROUTES]
    return tuple(rows)
