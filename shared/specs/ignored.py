"""Fields the official schemas accept that mlcycle does not act on. Each present field
gives one line in the record's `warnings` (the CLI prints them), so that a spec written
for Azure ML never loses a setting silently; so does a GPU size on a machine without
GPUs (`gpu_warning`, asked at intake)."""
from __future__ import annotations

import re
import shutil
from typing import Any

# Per kind: field path -> what mlcycle does instead. Read-only fields a spec may echo
# (id, status, creation_context, provisioning_state) are not listed: they ask for nothing.
_IGNORED: dict[str, dict[str, str]] = {
    "job": {
        "services": "interactive services (VS Code, Jupyter, TensorBoard, SSH) are not started",
        "identity": "the job runs with the host's own credentials",
        "queue_settings": "runs are admitted in submission order, whatever the job tier",
        "properties": "properties are not kept on the run (use tags)",
        "parameters": "parameters are not used",
        "resources.instance_type": "the job runs on its compute's nodes, whatever the type",
        "resources.shm_size": "shared memory is the host's",
        "resources.docker_args": "jobs do not run in a container here",
        "resources.locations": "the job runs where its compute is",
        "resources.max_instance_count": "resources.instance_count nodes are used",
        "resources.properties": "resource properties are not used",
    },
    "compute": {
        "location": "the compute runs where mlcycle runs",
        "identity": "the nodes use mlcycle's own identity",
        "ssh_settings": "the nodes accept no SSH logins",
        "ssh_public_access_enabled": "the nodes accept no SSH logins",
        "network_settings": "the nodes use mlcycle's own network",
        "enable_node_public_ip": "the nodes use mlcycle's own network",
    },
    "endpoint": {
        "identity": "the endpoint runs with mlcycle's own identity",
        "location": "the endpoint serves where mlcycle runs",
        "public_network_access": "the endpoint is reachable wherever mlcycle's API is",
        "mirror_traffic": "traffic is not mirrored",
        "traffic": "set traffic with `online-deployment create --all-traffic`",
        "kind": "the endpoint's kind is not used",
    },
    "deployment": {
        "app_insights_enabled": "no Application Insights telemetry is sent",
        "data_collector": "requests and answers are not collected",
        "egress_public_network_access": "the deployment uses mlcycle's own network",
        "private_network_connection": "the deployment uses mlcycle's own network",
        "scale_settings": "the deployment runs instance_count instances; no autoscale",
    },
    "data": {
        "datastore": "the data is stored in mlcycle's own blob store",
        "auto_delete_setting": "versions are kept until deleted",
    },
    "model": {
        "datastore": "the model is stored in mlcycle's own blob store",
        "stage": "model stages are not kept",
        "flavors": "flavors are read from the model's MLmodel file",
    },
}
# Azure's GPU VM families: NC, ND, NV and their versions (Standard_NC6s_v3, ...).
_GPU_SIZE = re.compile(r"(?i)standard_n[cdvg]")


def ignored_fields(kind: str, doc: dict) -> tuple[str, ...]:
    """One warning per field of `doc` (a spec of `kind`) that mlcycle accepts without
    acting on it, in the order the table above lists them."""
    return tuple(f"{path} is ignored: {instead}"
                 for path, instead in _IGNORED.get(kind, {}).items() if _present(doc, path))


def gpu_warning(size: Any, what: str) -> str | None:
    """A warning when `size` (an Azure VM size, `what` names where it was written) has
    GPUs and this machine has none, or None. The intake asks, not the spec's loading:
    the answer is the machine's, not the file's."""
    if not isinstance(size, str) or not _GPU_SIZE.match(size):
        return None
    # nvidia-smi ships with the NVIDIA driver: where it is missing, CUDA is too.
    if shutil.which("nvidia-smi") is not None:
        return None
    return (f"{what} {size} has GPUs, but none is visible where mlcycle runs: on the "
            "local host its work runs on CPU")


def _present(doc: dict, path: str) -> bool:
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return node not in (None, {}, [], "")
