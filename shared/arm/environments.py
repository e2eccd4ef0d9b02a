"""Environments: registered versions (an image, a conda file, or both) through the one
intake, as `mlcycle environment create` registers them, and Azure ML's curated names,
which every workspace has: here each is one version over the host's packages."""
from __future__ import annotations

import yaml

from shared.api.replies import BadRequest, Reply
from shared.arm.call import Call
from shared.arm.intake import accept_document, request_key
from shared.arm.scope import Scope
from shared.arm.shapes import page, resource
from shared.domain.errors import NotFound

SCHEMA = "https://azuremlschemas.azureedge.net/latest/environment.schema.json"
CURATED_PREFIX = "azureml-"


def _curated(name: str) -> dict | None:
    if not name.lower().startswith(CURATED_PREFIX):
        return None
    return {"name": name, "version": "1", "image": f"mcr.microsoft.com/azureml/curated/"
            f"{name[len(CURATED_PREFIX):].lower()}:latest", "conda_file": None,
            "description": "Azure ML's curated environment, run here over the host's "
                           "packages in a venv of its own", "tags": {}, "created_at": None}


def version_shape(scope: Scope, body: dict) -> dict:
    conda = body.get("conda_file")
    return resource(scope, ("environments", body["name"], "versions", str(body["version"])), {
        "image": body.get("image"), "condaFile": yaml.safe_dump(conda) if conda else None,
        "osType": "Linux", "environmentType": "UserCreated" if not _curated(body["name"])
        else "Curated", "description": body.get("description"), "tags": body.get("tags") or {},
        "properties": {}, "isAnonymous": False, "isArchived": False,
        "provisioningState": "Succeeded"}, created_at=body.get("created_at"))


def _versions(ports: dict, name: str) -> list[dict]:
    found = [r.body for r in ports["registry"].list("environment", name)]
    curated = _curated(name)
    return found or ([curated] if curated else [])


def list_versions(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    bodies = _versions(ports, name)
    order = call.query.get("$orderBy", call.query.get("$orderby", "")).lower()
    bodies.sort(key=lambda b: (b.get("created_at") or "", str(b["version"])),
                reverse="desc" in order)
    top = call.query.get("$top")
    if top and top.isdigit():
        bodies = bodies[:int(top)]
    return Reply(200, page([version_shape(scope, b) for b in bodies]))


def get_version(call: Call, ports: dict, *, scope: Scope, name: str, version: str) -> Reply:
    for body in _versions(ports, name):
        if str(body["version"]) == version:
            return Reply(200, version_shape(scope, body))
    raise NotFound(f"environment {name}:{version} does not exist")


def get_container(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    bodies = _versions(ports, name)
    if not bodies:
        raise NotFound(f"environment {name!r} does not exist")
    numbers = [int(b["version"]) for b in bodies if str(b["version"]).isdigit()]
    return Reply(200, resource(scope, ("environments", name), {
        "latestVersion": str(max(numbers)) if numbers else str(bodies[-1]["version"]),
        "nextVersion": str(max(numbers, default=0) + 1), "isArchived": False,
        "description": None, "tags": {}, "properties": {}}))


def list_containers(call: Call, ports: dict, *, scope: Scope) -> Reply:
    names = dict.fromkeys(r.name for r in ports["registry"].list("environment"))
    return Reply(200, page([resource(scope, ("environments", n), {"isArchived": False})
                            for n in names]))


def put_version(call: Call, ports: dict, *, scope: Scope, name: str, version: str) -> Reply:
    props = call.json().get("properties")
    if not isinstance(props, dict):
        raise BadRequest("an environment version needs properties")
    if props.get("build"):
        raise BadRequest("an environment with a build context is not supported: no image is "
                         "built here; give an image, and a conda file for pip packages")
    if _curated(name):
        raise BadRequest(f"{name!r} is a curated environment's name; register yours under "
                         "another")
    doc = {"$schema": SCHEMA, "name": name, "version": version}
    for rest, key in (("image", "image"), ("description", "description")):
        if props.get(rest):
            doc[key] = props[rest]
    if props.get("tags"):
        doc["tags"] = {str(k): str(v) for k, v in props["tags"].items()}
    conda = props.get("condaFile")
    if conda:
        doc["conda_file"] = "conda.yml"

    def files(folder) -> None:
        if conda:
            (folder / "conda.yml").write_text(conda if isinstance(conda, str)
                                              else yaml.safe_dump(conda), encoding="utf-8")
    existed = ports["registry"].get("environment", name, version) is not None
    body = accept_document(doc, "environment", ports=ports, prepare=files,
                           key=request_key("environment", name, version, call.body))
    return Reply(200 if existed else 201, version_shape(scope, body))


ROUTES = [
    ("GET", "environments", list_containers),
    ("GET", "environments/{name}", get_container),
    ("GET", "environments/{name}/versions", list_versions),
    ("GET", "environments/{name}/versions/{version}", get_version),
    ("PUT", "environments/{name}/versions/{version}", put_version),
]
