"""Versioned assets: models and data. A version's put becomes the YAML spec it stands
for and goes through the one intake; registering then runs on the queues as it does
for the CLI (a model is converted to ONNX afterwards). Containers (`models/{name}`)
give the SDK the next version to use."""
from __future__ import annotations

from shared.api.replies import BadRequest, Reply
from shared.arm.call import Call
from shared.arm.intake import accept_document, request_key
from shared.arm.scope import Scope
from shared.arm.shapes import page, resource
from shared.domain.errors import NotFound
from shared.domain.records import require, update
from shared.ports import Record

SCHEMAS = {"model": "https://azuremlschemas.azureedge.net/latest/model.schema.json",
           "data": "https://azuremlschemas.azureedge.net/latest/data.schema.json"}
PLURAL = {"model": "models", "data": "data"}


def _number(version: str) -> int:
    return int(version) if version.isdigit() else 0


def container_shape(scope: Scope, kind: str, name: str, records: list[Record]) -> dict:
    latest = max((r.version for r in records), key=_number, default=None)
    return resource(scope, (PLURAL[kind], name), {
        "latestVersion": latest, "nextVersion": str(max(map(_number, (r.version for r in
                                                                      records)), default=0) + 1),
        "isArchived": False, "description": None, "tags": {}, "properties": {}},
        created_at=records[0].body.get("created_at") if records else None)


def version_shape(scope: Scope, kind: str, body: dict) -> dict:
    state = body.get("state")
    status = {"mlcycle.state": str(state)}
    if body.get("error"):
        status["mlcycle.error"] = str((body["error"] or {}).get("message", body["error"]))
    common = {"description": body.get("description") or None, "tags": body.get("tags") or {},
              "properties": {**(body.get("properties") or {}), **status},
              "isAnonymous": False, "isArchived": False, "provisioningState": "Succeeded"}
    if kind == "model":
        props = {**common, "modelUri": body.get("sdk_uri") or _uri_of(body),
                 "modelType": body.get("type") or "custom_model", "jobName": body.get("job_name"),
                 "flavors": {}, "stage": None}
    else:
        props = {**common, "dataUri": body.get("sdk_uri") or _uri_of(body),
                 "dataType": body.get("type") or "uri_folder"}
    return resource(scope, (PLURAL[kind], body["name"], "versions", body["version"]), props,
                    created_at=body.get("created_at"))


def _uri_of(body: dict) -> str:
    source = str(body.get("path") or body.get("source") or "")
    if source.startswith("workspaceblobstore/"):
        return "azureml://datastores/workspaceblobstore/paths/" + source.split("/", 1)[1]
    return f"azureml://locations/mlcycle/{source}"


def list_containers(kind: str):
    def handler(call: Call, ports: dict, *, scope: Scope) -> Reply:
        by_name: dict[str, list[Record]] = {}
        for record in ports["registry"].list(kind):
            by_name.setdefault(record.name, []).append(record)
        return Reply(200, page([container_shape(scope, kind, n, rs)
                                for n, rs in by_name.items()]))
    return handler


def get_container(kind: str):
    def handler(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
        records = ports["registry"].list(kind, name)
        if not records:
            raise NotFound(f"{kind} {name!r} does not exist")
        return Reply(200, container_shape(scope, kind, name, records))
    return handler


def list_versions(kind: str):
    def handler(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
        records = ports["registry"].list(kind, name)
        order = call.query.get("$orderBy", call.query.get("$orderby", "")).lower()
        records.sort(key=lambda r: (r.body.get("created_at") or "", _number(r.version)),
                     reverse="desc" in order)
        top = call.query.get("$top")
        if top and top.isdigit():
            records = records[:int(top)]
        return Reply(200, page([version_shape(scope, kind, r.body) for r in records]))
    return handler


def get_version(kind: str):
    def handler(call: Call, ports: dict, *, scope: Scope, name: str, version: str) -> Reply:
        return Reply(200, version_shape(scope, kind, require(ports["registry"], kind, name,
                                                             version).body))
    return handler


def put_version(kind: str):
    def handler(call: Call, ports: dict, *, scope: Scope, name: str, version: str) -> Reply:
        props = call.json().get("properties")
        if not isinstance(props, dict):
            raise BadRequest(f"a {kind} version needs properties")
        uri = props.get("modelUri" if kind == "model" else "dataUri")
        if not isinstance(uri, str) or not uri:
            raise BadRequest(f"a {kind} version needs properties."
                             f"{'modelUri' if kind == 'model' else 'dataUri'}")
        doc = {"$schema": SCHEMAS[kind], "name": name, "version": version, "path": uri,
               "type": props.get("modelType" if kind == "model" else "dataType")
               or ("custom_model" if kind == "model" else "uri_folder")}
        for field in ("description", "tags", "properties"):
            if props.get(field) and (field != "properties" or kind == "model"):
                doc[field] = {str(k): str(v) for k, v in props[field].items()} \
                    if field != "description" else props[field]
        existed = ports["registry"].get(kind, name, version) is not None
        body = accept_document(doc, kind, key=request_key(kind, name, version, call.body),
                               ports=ports)
        if body.get("sdk_uri") != uri:  # echoed back as the SDK wrote it, as Azure ML does
            body = update(ports["registry"], kind, name, version,
                          lambda b: b.update(sdk_uri=uri))
        return Reply(200 if existed else 201, version_shape(scope, kind, body))
    return handler


ROUTES = [
    route
    for kind, plural in PLURAL.items()
    for route in (
        ("GET", plural, list_containers(kind)),
        ("GET", f"{plural}/{{name}}", get_container(kind)),
        ("GET", f"{plural}/{{name}}/versions", list_versions(kind)),
        ("GET", f"{plural}/{{name}}/versions/{{version}}", get_version(kind)),
        ("PUT", f"{plural}/{{name}}/versions/{{version}}", put_version(kind)),
    )
]
