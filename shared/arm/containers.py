"""The Blob API's containers and where each lies in the BlobStore port.

- `workspaceblobstore`: the workspace's default datastore (data and model uploads,
  `azureml://datastores/workspaceblobstore/paths/...`), read and written.
- `pu-<id>`: one pending upload of a code asset (startPendingUpload), written once;
  it lies inside the datastore, under PendingUploads/<id>/.
- `run-<run id>`: a run's files in run history (logs, outputs), read only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from shared.arm.sas import LIST, READ, WRITE
from shared.domain.datastores import DATASTORE
from shared.domain.errors import InvalidSpec, NotFound

_PENDING = re.compile(r"^pu-([0-9a-f]{32})$")
_RUN = re.compile(r"^run-([A-Za-z0-9_.-]+)$")


@dataclass(frozen=True)
class Container:
    name: str
    prefix: str  # BlobStore path of the container's root, ending in "/"
    permissions: str  # the most any signature for it may allow
    run_id: str = ""  # for run containers: whose files

    def blob(self, name: str) -> str:
        """The BlobStore path of a blob of this container. Raises InvalidSpec for a name
        that would climb out of it (Azure Storage would take ".." literally; the local
        twin would follow it)."""
        name = name.strip("/")
        if any(part in ("", ".", "..") for part in name.split("/")) and name:
            raise InvalidSpec(f"blob name {name!r} has an empty, '.' or '..' segment")
        return self.prefix + name


def container(name: str) -> Container:
    """Raises NotFound for a container this host does not have."""
    if name == DATASTORE:
        return Container(name, f"{DATASTORE}/", READ + WRITE + LIST)
    if m := _PENDING.match(name):
        return Container(name, f"{DATASTORE}/PendingUploads/{m[1]}/", READ + WRITE + LIST)
    if m := _RUN.match(name):
        return Container(name, f"runs/{m[1]}/", READ + LIST, run_id=m[1])
    raise NotFound(f"container {name!r} does not exist")


def pending_container(upload_id: str) -> str:
    return f"pu-{upload_id}"


def run_container(run_id: str) -> str:
    return f"run-{run_id}"
