"""Code assets: what `command(code="./src")` uploads. The SDK asks for an existing
version with the same content hash, else for a pending upload (a signed container on
this host's Blob API), uploads the folder there, and registers the version."""
from __future__ import annotations

import re
import uuid
from urllib.parse import unquote, urlsplit

from shared.api.replies import BadRequest, Reply
from shared.arm.call import Call
from shared.arm.containers import container, pending_container
from shared.arm.sas import LIST, READ, WRITE, sign
from shared.arm.scope import Scope
from shared.arm.shapes import page, resource
from shared.domain.datastores import datastore_blob, is_datastore_uri
from shared.domain.errors import NotFound
from shared.domain.records import require
from shared.ports import Record


def code_shape(scope: Scope, record: Record) -> dict:
    body = record.body
    return resource(scope, ("codes", record.name, "versions", record.version), {
        "codeUri": body["code_uri"], "isAnonymous": body.get("is_anonymous", False),
        "isArchived": False, "description": body.get("description"),
        "properties": body.get("properties", {}), "tags": body.get("tags", {}),
        "provisioningState": "Succeeded"}, created_at=body.get("created_at"))


def list_versions(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    wanted = call.query.get("hash")
    found = [r for r in ports["registry"].list("code", name)
             if wanted is None or r.body.get("properties", {}).get("hash_sha256") == wanted]
    return Reply(200, page([code_shape(scope, r) for r in found]))


def get_version(call: Call, ports: dict, *, scope: Scope, name: str, version: str) -> Reply:
    return Reply(200, code_shape(scope, require(ports["registry"], "code", name, version)))


def start_pending_upload(call: Call, ports: dict, *, scope: Scope, name: str,
                         version: str) -> Reply:
    upload = uuid.uuid4().hex
    box = pending_container(upload)
    url = f"{call.base}/api/storage/{box}"
    token = sign(ports["settings"].api_key, box, READ + WRITE + LIST)
    return Reply(200, {
        "pendingUploadId": upload, "pendingUploadType": "TemporaryBlobReference",
        "blobReferenceForConsumption": {
            "blobUri": url, "storageAccountArmId": None,
            "credential": {"credentialType": "SAS", "sasUri": f"{url}?{token}"}}})


def put_version(call: Call, ports: dict, *, scope: Scope, name: str, version: str) -> Reply:
    """A code version names where its files were uploaded. The same version put again
    with the same files is the same version (the SDK retries)."""
    props = (call.json().get("properties") or {})
    uri = props.get("codeUri")
    if not isinstance(uri, str) or not uri:
        raise BadRequest("a code version needs properties.codeUri")
    prefix = blob_prefix(uri, call.base)
    if not ports["blobs"].list(prefix):
        raise BadRequest(f"nothing was uploaded to {uri!r}")
    body = {"code_uri": uri, "path": prefix, "is_anonymous": bool(props.get("isAnonymous")),
            "description": props.get("description"), "tags": props.get("tags") or {},
            "properties": props.get("properties") or {},
            "created_at": ports["clock"].now()}
    existing = ports["registry"].get("code", name, version)
    if existing is not None and existing.body["path"] == prefix:
        return Reply(200, code_shape(scope, existing))
    record = ports["registry"].put(Record("code", name, version, body))
    return Reply(201 if existing is None else 200, code_shape(scope, record))


def blob_prefix(uri: str, base: str) -> str:
    """Where an uploaded asset's files lie in the BlobStore: from a URL of this host's
    Blob API ("https://host/api/storage/<container>/<path>") or a datastore path."""
    if is_datastore_uri(uri):
        return datastore_blob(uri)
    parts = urlsplit(uri)
    m = re.match(r"^/api/storage/([^/]+)(?:/(.*))?$", unquote(parts.path))
    if m is None or parts.netloc.rsplit("@", 1)[-1] != urlsplit(base).netloc:
        raise BadRequest(f"{uri!r} is not a location on this host")
    try:
        box = container(m[1])
    except NotFound as exc:
        raise BadRequest(str(exc)) from None
    return box.blob(m[2] or "").rstrip("/")


ROUTES = [
    ("GET", "codes/{name}/versions", list_versions),
    ("GET", "codes/{name}/versions/{version}", get_version),
    ("PUT", "codes/{name}/versions/{version}", put_version),
    ("POST", "codes/{name}/versions/{version}/startPendingUpload", start_pending_upload),
]
