"""The workspace's one datastore: Azure ML's default, `workspaceblobstore`, whose files
lie in the BlobStore container of the same name. `azureml://datastores/...` paths name
files in it."""
from __future__ import annotations

import re

from shared.domain.errors import InvalidSpec

DATASTORE = "workspaceblobstore"
_URI = re.compile(r"^azureml://(?:subscriptions/[^/]+/resourcegroups/[^/]+/"
                  r"(?:providers/microsoft\.machinelearningservices/)?workspaces/[^/]+/)?"
                  r"datastores/([^/]+)/paths/(.*)$", re.IGNORECASE)


def is_datastore_uri(uri: str) -> bool:
    return bool(_URI.match(uri))


def datastore_blob(uri: str) -> str:
    """"azureml://datastores/workspaceblobstore/paths/a/b" (or its long form, with the
    subscription, resource group and workspace) -> the BlobStore path
    "workspaceblobstore/a/b". Raises InvalidSpec for anything else."""
    m = _URI.match(uri)
    if m is None:
        raise InvalidSpec(f"{uri!r} is not a datastore path "
                          "(azureml://datastores/<name>/paths/<path>)")
    if m[1] != DATASTORE:
        raise InvalidSpec(f"datastore {m[1]!r} does not exist; this workspace has "
                          f"{DATASTORE!r}")
    path = m[2].strip("/")
    if not path or ".." in path.split("/"):
        raise InvalidSpec(f"{uri!r} names no file or folder in the datastore")
    return f"{DATASTORE}/{path}"
