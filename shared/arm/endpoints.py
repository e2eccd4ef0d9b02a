"""Online endpoints: put (through the one intake, as `mlcycle online-endpoint create`
does, then the traffic split and mirror), get, list, delete, and the keys and token
`online_endpoints.invoke` asks for before it posts to the endpoint's scoringUri."""
from __future__ import annotations

from shared.api import scoring as api_scoring
from shared.api.replies import BadRequest, Reply
from shared.arm.call import Call
from shared.arm.intake import accept_document, request_key
from shared.arm.operations import accepted
from shared.arm.scope import LOCATION, Scope
from shared.arm.shapes import page, resource
from shared.domain.records import require
from shared.handlers.online_endpoints import check_traffic, delete_endpoint, set_traffic

SCHEMA = "https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json"
# REST's spelling of an auth mode -> the YAML's.
AUTH_MODES = {"key": "key", "amltoken": "aml_token", "aadtoken": "aad_token"}
_REST_AUTH = {"key": "Key", "aml_token": "AMLToken", "aad_token": "AADToken"}
NEVER = "2100-01-01T00:00:00+00:00"  # an endpoint key does not expire


def scoring_uri(base: str, scope: Scope, name: str) -> str:
    """The SDK door's own scoring route: `invoke` sends the key as a bearer token, which
    the Functions host cannot read on mlcycle's keyed /api/endpoints/{name}/score."""
    return f"{base}/api{scope.id('onlineEndpoints', name, 'score')}"


def score(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    """The same scoring as /api/endpoints/{name}/score: traffic split, mirror, the
    azureml-model-deployment header, no-code and scoring-script deployments."""
    return api_scoring.score(name, call.body, call.headers, registry=ports["registry"],
                             blobs=ports["blobs"], scorer=ports["scorer"],
                             scripts=ports.get("scripts"))


def endpoint_shape(scope: Scope, body: dict, base: str) -> dict:
    props = {
        "authMode": _REST_AUTH.get(body.get("auth_mode") or "key", "Key"),
        "description": body.get("description") or None, "properties": {},
        "scoringUri": scoring_uri(base, scope, body["name"]), "swaggerUri": None,
        "traffic": dict(body.get("traffic") or {}),
        "mirrorTraffic": dict(body.get("mirror_traffic") or {}),
        "provisioningState": "Succeeded", "publicNetworkAccess": "Enabled",
    }
    return resource(scope, ("onlineEndpoints", body["name"]), props,
                    created_at=body.get("created_at"),
                    extra={"location": LOCATION, "kind": "Managed",
                           "tags": dict(body.get("tags") or {}),
                           "identity": {"type": "SystemAssigned"}})


def put_endpoint(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    """Create or update an endpoint. A traffic split or mirror in the request replaces
    the endpoint's; one the request leaves out stays as it is. Both are checked before
    anything changes."""
    sent = call.json()
    props = sent.get("properties")
    if not isinstance(props, dict):
        raise BadRequest("an online endpoint needs properties")
    compute = props.get("compute")
    if compute:
        raise BadRequest(f"endpoint {name}: Kubernetes online endpoints (compute {compute!r}) "
                         "are not served here; leave compute out for a managed endpoint")
    registry = ports["registry"]
    existed = registry.get("endpoint", name) is not None
    traffic, mirror = props.get("traffic"), props.get("mirrorTraffic")
    check_traffic(name, traffic, mirror, registry=registry)
    doc = {"$schema": SCHEMA, "name": name, "auth_mode": _auth_mode(props.get("authMode"))}
    if props.get("description"):
        doc["description"] = str(props["description"])
    tags = sent.get("tags") or props.get("tags")
    if tags:
        doc["tags"] = {str(k): str(v) for k, v in tags.items()}
    body = accept_document(doc, "endpoint", key=request_key("endpoint", name, call.body),
                           ports=ports)
    if traffic is not None or mirror is not None:
        body = set_traffic(name, traffic, mirror, registry=registry)
    return accepted(call, ports, scope, "endpoint", name, endpoint_shape(scope, body, call.base),
                    status=200 if existed else 201)


def _auth_mode(given: object) -> str:
    if not given:
        return "key"
    mode = AUTH_MODES.get(str(given).replace("_", "").lower())
    if mode is None:
        raise BadRequest(f"authMode {given!r} is not one of Key, AMLToken, AADToken")
    return mode


def get_endpoint(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    body = require(ports["registry"], "endpoint", name).body
    return Reply(200, endpoint_shape(scope, body, call.base))


def list_endpoints(call: Call, ports: dict, *, scope: Scope) -> Reply:
    return Reply(200, page([endpoint_shape(scope, r.body, call.base)
                            for r in ports["registry"].list("endpoint")]))


def delete_online_endpoint(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    """The endpoint goes with its deployments; deleting one that is not there is done."""
    registry = ports["registry"]
    if registry.get("endpoint", name) is None:
        return Reply(204, b"")
    delete_endpoint(name, registry=registry, scripts=ports.get("scripts"))
    return accepted(call, ports, scope, "delete-endpoint", name)


def list_keys(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    """An endpoint's keys are mlcycle's key, the one its scoring route takes (as a bearer
    token, the way `online_endpoints.invoke` sends it)."""
    require(ports["registry"], "endpoint", name)
    key = ports["settings"].api_key
    return Reply(200, {"primaryKey": key, "secondaryKey": key})


def get_token(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    """The token of an aml_token endpoint: mlcycle's key too, which does not expire."""
    require(ports["registry"], "endpoint", name)
    return Reply(200, {"accessToken": ports["settings"].api_key, "tokenType": "Bearer",
                       "expiryTimeUtc": _epoch(NEVER), "refreshAfterTimeUtc": _epoch(NEVER)})


def regenerate_keys(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    require(ports["registry"], "endpoint", name)
    raise BadRequest(f"endpoint {name}: its keys are mlcycle's key and change with it, "
                     "not one by one (each `mlcycle up` makes a new key; in Azure, change "
                     "the MLCYCLE_API_KEY app setting)")


def _epoch(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso).timestamp())


ROUTES = [
    ("GET", "onlineEndpoints", list_endpoints),
    ("GET", "onlineEndpoints/{name}", get_endpoint),
    ("PUT", "onlineEndpoints/{name}", put_endpoint),
    ("DELETE", "onlineEndpoints/{name}", delete_online_endpoint),
    ("POST", "onlineEndpoints/{name}/listKeys", list_keys),
    ("POST", "onlineEndpoints/{name}/token", get_token),
    ("POST", "onlineEndpoints/{name}/regenerateKeys", regenerate_keys),
    ("POST", "onlineEndpoints/{name}/score", score),
]
