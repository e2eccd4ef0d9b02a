"""Computes: AmlCompute pools, created and changed through the one intake (as
`mlcycle compute create` does), read with their current and target nodes."""
from __future__ import annotations

from shared.api.replies import BadRequest, Reply
from shared.arm.call import Call
from shared.arm.intake import accept_document, request_key
from shared.arm.job_specs import duration_seconds
from shared.arm.operations import accepted
from shared.arm.scope import LOCATION, Scope
from shared.arm.shapes import page, resource
from shared.domain.errors import Conflict
from shared.domain.records import require
from shared.domain.status import RunStatus

SCHEMA = "https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json"
_TIERS = {"dedicated": "Dedicated", "low_priority": "LowPriority"}


def compute_shape(scope: Scope, body: dict) -> dict:
    current, target = int(body.get("current_nodes") or 0), int(body.get("target_nodes") or 0)
    idle = int(body.get("idle_nodes") or 0)
    inner = {
        "vmSize": body.get("size") or "STANDARD_DS3_V2",
        "vmPriority": _TIERS.get(body.get("tier") or "dedicated", "Dedicated"),
        "scaleSettings": {"minNodeCount": int(body.get("min_instances") or 0),
                          "maxNodeCount": int(body["max_instances"]),
                          "nodeIdleTimeBeforeScaleDown":
                              f"PT{int(body.get('idle_time_before_scale_down') or 0)}S"},
        "currentNodeCount": current, "targetNodeCount": target,
        "allocationState": "Steady" if current == target else "Resizing",
        "nodeStateCounts": {"idleNodeCount": idle, "runningNodeCount": max(current - idle, 0),
                            "preparingNodeCount": 0, "unusableNodeCount": 0,
                            "leavingNodeCount": 0, "preemptedNodeCount": 0},
        "osType": "Linux", "remoteLoginPortPublicAccess": "NotSpecified",
    }
    props = {"computeType": "AmlCompute", "provisioningState": "Succeeded",
             "computeLocation": LOCATION, "description": None, "isAttachedCompute": False,
             "disableLocalAuth": True, "properties": inner}
    return resource(scope, ("computes", body["name"]), props, created_at=body.get("created_at"),
                    extra={"location": LOCATION, "tags": {}})


def put_compute(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    props = call.json().get("properties") or {}
    kind = str(props.get("computeType") or "")
    if kind.lower() != "amlcompute":
        raise BadRequest(f"only AmlCompute computes are supported here, not {kind or 'none'}")
    inner = props.get("properties") or {}
    scale = inner.get("scaleSettings") or {}
    doc = {"$schema": SCHEMA, "type": "amlcompute", "name": name,
           "min_instances": int(scale.get("minNodeCount") or 0),
           "max_instances": int(scale.get("maxNodeCount") or 1),
           "tier": "low_priority" if str(inner.get("vmPriority", "")).lower() == "lowpriority"
           else "dedicated"}
    if inner.get("vmSize"):
        doc["size"] = inner["vmSize"]
    if scale.get("nodeIdleTimeBeforeScaleDown"):
        doc["idle_time_before_scale_down"] = duration_seconds(
            scale["nodeIdleTimeBeforeScaleDown"])
    existed = ports["registry"].get("compute", name) is not None
    body = accept_document(doc, "compute", key=request_key("compute", name, call.body),
                           ports=ports)
    return accepted(call, ports, scope, "compute", name, compute_shape(scope, body),
                    status=200 if existed else 201)


def get_compute(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    return Reply(200, compute_shape(scope, require(ports["registry"], "compute", name).body))


def list_computes(call: Call, ports: dict, *, scope: Scope) -> Reply:
    return Reply(200, page([compute_shape(scope, r.body)
                            for r in ports["registry"].list("compute")]))


def delete_compute(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    """A pool with runs that have not ended is kept: deleting it would strand them."""
    registry = ports["registry"]
    if registry.get("compute", name) is None:
        return Reply(204, b"")
    going = [r.name for r in registry.list("run", where={"compute": name})
             if not RunStatus(r.body["status"]).terminal]
    if going:
        raise Conflict(f"compute {name!r} still has runs that have not ended: "
                       f"{', '.join(going[:5])}; cancel them or wait")
    registry.delete("compute", name)
    return accepted(call, ports, scope, "delete-compute", name)


def list_nodes(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    """A local pool's nodes are slots on this machine, not machines: there are none to
    list (and Batch's are listed by Batch)."""
    require(ports["registry"], "compute", name)
    return Reply(200, {"nodes": [], "nextLink": None})


ROUTES = [
    ("GET", "computes", list_computes),
    ("GET", "computes/{name}", get_compute),
    ("PUT", "computes/{name}", put_compute),
    ("DELETE", "computes/{name}", delete_compute),
    ("POST", "computes/{name}/listNodes", list_nodes),
]
