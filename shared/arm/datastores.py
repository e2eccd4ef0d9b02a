"""The workspace's one datastore, `workspaceblobstore`, whose Blob API is this host's
(shared.arm.storage): get, list, and listSecrets, which hands out a signature for it."""
from __future__ import annotations

from shared.api.replies import Reply
from shared.arm.call import Call
from shared.arm.cloud import storage_suffix
from shared.arm.sas import LIST, READ, WRITE, sign
from shared.arm.scope import Scope
from shared.arm.shapes import page, resource
from shared.domain.datastores import DATASTORE
from shared.domain.errors import NotFound

ACCOUNT = "mlcycle"


def _datastore(call: Call, scope: Scope) -> dict:
    return resource(scope, ("datastores", DATASTORE), {
        "datastoreType": "AzureBlob", "accountName": ACCOUNT, "containerName": DATASTORE,
        "endpoint": storage_suffix(call.base), "protocol": "https",
        "credentials": {"credentialsType": "Sas"}, "isDefault": True,
        "serviceDataAccessAuthIdentity": "None",
        "description": "the workspace's default datastore, on this host",
        "tags": {}, "properties": {}})


def _named(name: str) -> None:
    if name != DATASTORE:
        raise NotFound(f"datastore {name!r} does not exist; this workspace has {DATASTORE!r}")


def list_datastores(call: Call, ports: dict, *, scope: Scope) -> Reply:
    wanted = call.query.get("isDefault")
    return Reply(200, page([_datastore(call, scope)] if wanted in (None, "true", "True")
                           else []))


def get_datastore(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    _named(name)
    return Reply(200, _datastore(call, scope))


def list_secrets(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    _named(name)
    token = sign(ports["settings"].api_key, DATASTORE, READ + WRITE + LIST)
    return Reply(200, {"secretsType": "Sas", "sasToken": token})


ROUTES = [
    ("GET", "datastores", list_datastores),
    ("GET", "datastores/{name}", get_datastore),
    ("POST", "datastores/{name}/listSecrets", list_secrets),
]
