"""Long-running operations, as ARM does them: a 201/202 answer names an operation in its
`Azure-AsyncOperation` header, and that operation's status follows the record it
concerns, read afresh on every poll (nothing to keep in step)."""
from __future__ import annotations

import hashlib

from shared.api.replies import Reply
from shared.arm.call import Call
from shared.arm.scope import Scope
from shared.domain.errors import NotFound
from shared.domain.records import require
from shared.domain.status import RunStatus
from shared.ports import Record, Registry

DONE, RUNNING, FAILED = "Succeeded", "InProgress", "Failed"


def operation_url(call: Call, ports: dict, scope: Scope, kind: str, target: str) -> str:
    """Record an operation on target (once per kind and target) and return its URL."""
    op = hashlib.sha256(f"{kind}\0{target}".encode()).hexdigest()[:32]
    registry: Registry = ports["registry"]
    registry.put(Record("arm-operation", op, "", {"kind": kind, "target": target,
                                                  "started_at": ports["clock"].now()}))
    return f"{call.base}/api{scope.id('operations', op)}"


def accepted(call: Call, ports: dict, scope: Scope, kind: str, target: str,
             body: object = None, status: int = 202) -> Reply:
    url = operation_url(call, ports, scope, kind, target)
    headers = {"Azure-AsyncOperation": url, "Retry-After": "1"}
    if status == 202:
        headers["Location"] = url
    return Reply(status, body if body is not None else b"", headers)


def get_operation(call: Call, ports: dict, *, scope: Scope, op: str) -> Reply:
    record = ports["registry"].get("arm-operation", op)
    if record is None:
        raise NotFound(f"operation {op!r} does not exist")
    status, error = _STATUS[record.body["kind"]](ports["registry"], record.body["target"])
    body = {"id": scope.id("operations", op), "name": op, "status": status,
            "startTime": record.body["started_at"]}
    if error:
        body["error"] = {"code": "Failed", "message": error}
    return Reply(200, body)


def _cancel_job(registry: Registry, run_id: str) -> tuple[str, str]:
    status = RunStatus(require(registry, "run", run_id).body["status"])
    asked = status is RunStatus.CANCEL_REQUESTED or status.terminal
    return (DONE if asked else RUNNING), ""


def _deployment(registry: Registry, name: str) -> tuple[str, str]:
    """A roll-out: done once its deployment serves it. It failed when the deployment
    did, or when it keeps serving an older version: an intake clears `error`, so an
    error now is this roll-out's."""
    record = registry.get("deployment", name)
    if record is None:
        return FAILED, f"deployment {name!r} no longer exists"
    state, error = record.body.get("state"), record.body.get("error")
    if state == "Failed" or error:
        reason = error.get("message") if isinstance(error, dict) else error
        return FAILED, str(reason or "the deployment failed")
    return (DONE if state == "Succeeded" else RUNNING), ""


def _gone(kind: str):
    def status(registry: Registry, name: str) -> tuple[str, str]:
        return (DONE if registry.get(kind, name) is None else RUNNING), ""
    return status


def _immediate(registry: Registry, name: str) -> tuple[str, str]:
    return DONE, ""


_STATUS = {"cancel-job": _cancel_job, "deployment": _deployment, "endpoint": _immediate,
           "compute": _immediate, "delete-deployment": _gone("deployment"),
           "delete-endpoint": _gone("endpoint"), "delete-compute": _gone("compute")}

ROUTES = [("GET", "operations/{op}", get_operation)]
