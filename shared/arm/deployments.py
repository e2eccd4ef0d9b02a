"""Online deployments: put (the REST deployment written as the managedOnlineDeployment
YAML it stands for, code folder beside it, and accepted through the one intake as
`mlcycle online-deployment create` does), get, list, delete, and getLogs
(`deployment_logs`)."""
from __future__ import annotations

import re

from shared.api.replies import BadRequest, Reply
from shared.arm.call import Call
from shared.arm.deployment_logs import error_message, get_logs
from shared.arm.intake import accept_document, request_key
from shared.arm.job_specs import download_code, environment_ref
from shared.arm.operations import accepted
from shared.arm.scope import LOCATION, Scope
from shared.arm.shapes import page, resource
from shared.domain.records import require
from shared.handlers.online_endpoints import delete_deployment
from shared.ports import Record, Registry

SCHEMA = "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json"
SENT = "sdk-deployment"  # what the SDK put, echoed back where mlcycle keeps no field for it
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")


def deployment_shape(scope: Scope, dep: dict, sent: dict | None = None) -> dict:
    sent = sent or {}
    endpoint, name = dep["endpoint"], dep["name"]
    code = dep.get("code") or {}
    timeout_ms = dep.get("request_timeout_ms")
    props = {
        "endpointComputeType": "Managed", "provisioningState": _provisioning(dep),
        "description": sent.get("description") or None,
        "properties": {**(sent.get("properties") or {}), **_status(dep)},
        "model": sent.get("model") or _model_id(scope, dep),
        "codeConfiguration": sent.get("codeConfiguration") or (
            {"codeId": None, "scoringScript": code["scoring_script"]} if code else None),
        "environmentId": sent.get("environmentId"),
        "environmentVariables": dict(dep.get("environment_variables") or {}),
        "instanceType": dep.get("instance_type"), "appInsightsEnabled": False,
        "egressPublicNetworkAccess": "Enabled", "scaleSettings": {"scaleType": "Default"},
        "requestSettings": sent.get("requestSettings") or (
            {"requestTimeout": f"PT{timeout_ms / 1000:g}S"} if timeout_ms else None),
        "livenessProbe": sent.get("livenessProbe"), "readinessProbe": sent.get("readinessProbe"),
    }
    return resource(scope, ("onlineEndpoints", endpoint, "deployments", name), props,
                    created_at=dep.get("created_at"), modified_at=dep.get("updated_at"),
                    extra={"location": LOCATION, "kind": "Managed",
                           "tags": dict(sent.get("tags") or {}),
                           "sku": {"name": "Default", "tier": "Standard",
                                   "capacity": int(dep.get("instance_count") or 1)}})


def _provisioning(dep: dict) -> str:
    state = dep.get("state")
    if state == "Failed" or (state == "Creating" and dep.get("error")):
        return "Failed"  # a failed roll-out; one of a deployment that still serves too
    if state == "Creating":
        return "Updating" if dep.get("model_version") else "Creating"
    return "Succeeded" if state == "Succeeded" else str(state)


def _status(dep: dict) -> dict:
    """What mlcycle knows beyond ARM's fields, as the string properties the SDK keeps."""
    status = {"mlcycle.state": str(dep.get("state"))}
    if dep.get("model_version"):
        status["mlcycle.servedModel"] = f"{dep['model']}:{dep['model_version']}"
    if dep.get("error"):
        status["mlcycle.error"] = error_message(dep["error"])
    return status


def _model_id(scope: Scope, dep: dict) -> str:
    ref = dep.get("model_ref") or {}
    if ref.get("version"):
        return scope.azureml_id("models", dep["model"], "versions", str(ref["version"]))
    return f"azureml:{dep['model']}@{ref.get('label') or 'latest'}"


def put_deployment(call: Call, ports: dict, *, scope: Scope, endpoint: str,
                   name: str) -> Reply:
    """Create a deployment, or roll it to what the request names. The same request
    again (the SDK retries) is the same roll-out."""
    sent = call.json()
    props = sent.get("properties")
    if not isinstance(props, dict):
        raise BadRequest("an online deployment needs properties")
    kind = str(props.get("endpointComputeType") or "Managed")
    if kind.lower() != "managed":
        raise BadRequest(f"deployment {name}: {kind} deployments are not served here; "
                         "deploy a managed online deployment")
    registry = ports["registry"]
    require(registry, "endpoint", endpoint)
    doc = deployment_document(endpoint, name, props, sent)
    code_id = (props.get("codeConfiguration") or {}).get("codeId")
    key = f"{endpoint}/{name}"
    existed = registry.get("deployment", key) is not None
    dep = accept_document(
        doc, "deployment", key=request_key("deployment", endpoint, name, call.body),
        ports=ports, endpoint=endpoint,
        prepare=(lambda root: download_code(code_id, root / "code", registry,
                                            ports["blobs"])) if code_id else None)
    kept = {"properties": {**props, "tags": sent.get("tags") or {}}}
    registry.put(Record(SENT, key, "", kept))
    return accepted(call, ports, scope, "deployment", key,
                    deployment_shape(scope, dep, kept["properties"]),
                    status=200 if existed else 201)


def deployment_document(endpoint: str, name: str, props: dict, sent: dict) -> dict:
    """The managedOnlineDeployment YAML a REST deployment stands for (its code folder
    is `./code` beside it)."""
    doc = {"$schema": SCHEMA, "name": name, "endpoint_name": endpoint,
           "model": model_reference(props.get("model")),
           "instance_count": int((sent.get("sku") or {}).get("capacity") or 1)}
    if props.get("instanceType"):
        doc["instance_type"] = str(props["instanceType"])
    code = props.get("codeConfiguration")
    if code:
        if not code.get("codeId"):
            raise BadRequest(f"deployment {name}: codeConfiguration needs a codeId")
        doc["code_configuration"] = {"code": "./code",
                                     "scoring_script": code.get("scoringScript")}
    if props.get("environmentId"):
        doc["environment"] = environment_ref(props["environmentId"])
    if props.get("environmentVariables"):
        doc["environment_variables"] = {str(k): str(v)
                                        for k, v in props["environmentVariables"].items()}
    timeout = (props.get("requestSettings") or {}).get("requestTimeout")
    if timeout:
        doc["request_settings"] = {"request_timeout_ms": duration_ms(timeout)}
    if props.get("description"):
        doc["description"] = str(props["description"])
    if sent.get("tags"):
        doc["tags"] = {str(k): str(v) for k, v in sent["tags"].items()}
    return doc


def model_reference(model: object) -> str:
    """`azureml:<name>:<version>` (or `@<label>`) for the model the SDK names: an ARM id
    of a version, as it sends a Model, or the reference as the user wrote it."""
    if not isinstance(model, str) or not model.strip():
        raise BadRequest("a deployment needs properties.model: a registered model "
                         "(azureml:<name>:<version>)")
    value = model.strip()
    if "registries/" in value.lower():
        raise BadRequest(f"model {value!r} is in an Azure ML registry; register it in this "
                         "workspace and deploy it from here")
    m = re.search(r"/models/([^/]+)/(versions|labels)/([^/]+)$", value)
    if m is not None:
        return f"azureml:{m[1]}{':' if m[2] == 'versions' else '@'}{m[3]}"
    return value if value.startswith("azureml:") else f"azureml:{value}"


def duration_ms(value: str) -> int:
    """An ISO 8601 duration of hours, minutes and seconds ("PT5S", "PT0.5S") in ms."""
    m = _DURATION.match(str(value))
    if m is None or not any(m.groups()):
        raise BadRequest(f"requestSettings.requestTimeout {value!r} is not an ISO 8601 "
                         "duration such as PT5S")
    hours, minutes, seconds = (float(g or 0) for g in m.groups())
    return round((hours * 3600 + minutes * 60 + seconds) * 1000)


def get_deployment(call: Call, ports: dict, *, scope: Scope, endpoint: str,
                   name: str) -> Reply:
    return Reply(200, _shape(scope, ports["registry"], f"{endpoint}/{name}"))


def list_deployments(call: Call, ports: dict, *, scope: Scope, endpoint: str) -> Reply:
    registry = ports["registry"]
    require(registry, "endpoint", endpoint)
    found = [r.name for r in registry.list("deployment") if r.body.get("endpoint") == endpoint]
    return Reply(200, page([_shape(scope, registry, key) for key in found]))


def _shape(scope: Scope, registry: Registry, key: str) -> dict:
    dep = require(registry, "deployment", key).body
    sent = registry.get(SENT, key)
    return deployment_shape(scope, dep, sent.body["properties"] if sent else None)


def delete_online_deployment(call: Call, ports: dict, *, scope: Scope, endpoint: str,
                             name: str) -> Reply:
    """No request goes to the deployment after; deleting one that is not there is done."""
    registry = ports["registry"]
    key = f"{endpoint}/{name}"
    if registry.get("deployment", key) is None:
        return Reply(204, b"")
    delete_deployment(endpoint, name, registry=registry, scripts=ports.get("scripts"))
    registry.delete(SENT, key)
    return accepted(call, ports, scope, "delete-deployment", key)


ROUTES = [
    ("GET", "onlineEndpoints/{endpoint}/deployments", list_deployments),
    ("GET", "onlineEndpoints/{endpoint}/deployments/{name}", get_deployment),
    ("PUT", "onlineEndpoints/{endpoint}/deployments/{name}", put_deployment),
    ("DELETE", "onlineEndpoints/{endpoint}/deployments/{name}", delete_online_deployment),
    ("POST", "onlineEndpoints/{endpoint}/deployments/{name}/getLogs", get_logs),
]
