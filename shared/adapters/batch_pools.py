"""Batch pools for mlcycle's computes: the pool a compute record stands for, and the
resize that carries out a compute-scale decision (shared.domain.pools decides; Batch
only follows).

A pool is created with its compute's VM size (`size`), at the decided size, with
low-priority nodes for `tier: low_priority`; inter-node communication is on when the
compute may ever run a multi-node job (it cannot be changed once the pool exists). One
task per node: the policy counts nodes, and a run owns the nodes it was given.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta

from azure.batch import models

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
COMPUTE_TAG = "mlcycle-compute"  # pool metadata: the compute a pool stands for

# A GPU image with Docker and the NVIDIA drivers that Batch supports for containers.
UBUNTU_HPC = {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2204",
              "version": "latest"}
# The runs need python3 with venv and pip on the host (venv environments, no image).
PREPARE_NODE = ("/bin/bash -c 'python3 -m venv --help >/dev/null 2>&1 && python3 -m pip "
                "--version >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q "
                "python3-venv python3-pip)'")


@dataclass(frozen=True)
class PoolDefaults:
    """What a compute record leaves to the deployment.

    vm_size: for a compute that names no `size` (the implicit `local` pool).
    image: the marketplace image reference (publisher, offer, sku, version).
    node_agent_sku_id: the Batch node agent that matches the image.
    default_image: the image of runs whose environment names none (curated and
        registered environments); None runs them on the host image's python3.
    container_images: more images every node pulls when it joins the pool; the image
        of a job's environment is pulled on first use if it is not among them.
    container_run_options: `docker run` options of each task: host networking, so the
        nodes of a multi-node job reach each other's ports, and the host's IPC, for
        PyTorch's shared-memory data loaders.
    start_task: run once on each node as it joins the pool, with admin rights.
    default_pool: the pool of a run whose record names no compute.
    resize_timeout_s: how long Batch may take to allocate nodes before giving up.
    """

    vm_size: str = "Standard_NC6s_v3"
    image: dict = field(default_factory=lambda: dict(UBUNTU_HPC))
    node_agent_sku_id: str = "batch.node.ubuntu 22.04"
    default_image: str | None = None
    container_images: tuple[str, ...] = ()
    container_run_options: str = "--network host --ipc host"
    start_task: str = PREPARE_NODE
    default_pool: str = "local"
    resize_timeout_s: int = 900

    @classmethod
    def from_settings(cls, azure) -> "PoolDefaults":
        """The defaults with what the app settings override (shared.settings.AzureSettings).

        Raises: ValueError for an image that is not publisher:offer:sku:version."""
        changes: dict = {}
        if azure.batch_vm_size:
            changes["vm_size"] = azure.batch_vm_size
        if azure.batch_image:
            parts = azure.batch_image.split(":")
            if len(parts) != 4 or not all(parts):
                raise ValueError(f"MLCYCLE_BATCH_IMAGE {azure.batch_image!r} is not "
                                 "publisher:offer:sku:version")
            changes["image"] = dict(zip(("publisher", "offer", "sku", "version"), parts))
        if azure.batch_node_agent_sku:
            changes["node_agent_sku_id"] = azure.batch_node_agent_sku
        if azure.batch_default_image:
            changes["default_image"] = azure.batch_default_image
        if azure.batch_container_images:
            changes["container_images"] = tuple(
                i.strip() for i in azure.batch_container_images.split(",") if i.strip())
        return dataclasses.replace(cls(), **changes)


def batch_id(name: str) -> str:
    """A Batch id (letters, digits, - and _, at most 64) for a compute or run name: the
    name itself where it is one, else a readable part of it and a hash that keeps two
    names apart."""
    if _ID.match(name):
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{re.sub(r'[^A-Za-z0-9_-]', '-', name)[:51]}-{digest}"


def node_split(pool: dict, nodes: int) -> tuple[int, int]:
    """(dedicated, low-priority) targets for `nodes` nodes of the pool's tier."""
    return (0, nodes) if pool.get("tier") == "low_priority" else (nodes, 0)


def pool_options(pool: dict, defaults: PoolDefaults) -> models.BatchPoolCreateOptions:
    """The pool of a compute record (its body as compute-scale wrote it), at its
    decided size."""
    dedicated, low = node_split(pool, int(pool.get("target_nodes") or 0))
    # Every pool runs containers: whether a task does is the run's environment's choice.
    prefetch = dict.fromkeys([defaults.default_image, *defaults.container_images])
    containers = models.BatchContainerConfiguration(
        type="dockerCompatible", container_image_names=[i for i in prefetch if i] or None)
    machine = models.VirtualMachineConfiguration(
        image_reference=models.BatchVmImageReference(**defaults.image),
        node_agent_sku_id=defaults.node_agent_sku_id, container_configuration=containers)
    start = models.BatchStartTask(
        command_line=defaults.start_task, wait_for_success=True, max_task_retry_count=2,
        user_identity=models.UserIdentity(auto_user=models.AutoUserSpecification(
            scope="pool", elevation_level="admin")))
    return models.BatchPoolCreateOptions(
        id=batch_id(pool["name"]), display_name=pool["name"],
        vm_size=pool.get("size") or defaults.vm_size, virtual_machine_configuration=machine,
        target_dedicated_nodes=dedicated, target_low_priority_nodes=low,
        resize_timeout=timedelta(seconds=defaults.resize_timeout_s),
        enable_inter_node_communication=int(pool.get("max_instances") or 1) > 1,
        task_slots_per_node=1, start_task=start,
        metadata=[models.BatchMetadataItem(name=COMPUTE_TAG, value=pool["name"])])


def resize_options(pool: dict, defaults: PoolDefaults) -> models.BatchPoolResizeOptions:
    """The resize to the decided size. A node that is shrunk away finishes its task
    first: the policy never shrinks below the busy nodes, but Batch picks the nodes."""
    dedicated, low = node_split(pool, int(pool.get("target_nodes") or 0))
    return models.BatchPoolResizeOptions(
        target_dedicated_nodes=dedicated, target_low_priority_nodes=low,
        resize_timeout=timedelta(seconds=defaults.resize_timeout_s),
        node_deallocation_option="taskcompletion")


def targets_of(pool: models.BatchPool) -> tuple[int, int]:
    return pool.target_dedicated_nodes or 0, pool.target_low_priority_nodes or 0
