"""Compute targets of SDK v1 (`azureml.core.compute`): mlcycle's compute pools
(`mlcycle compute create --type amlcompute`)."""
from __future__ import annotations

import time
from typing import Any

from azureml.core._connection import quote
from azureml.exceptions import ComputeTargetException

COMPUTE_SCHEMA = "https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json"
_TIERS = {"dedicated": "dedicated", "lowpriority": "low_priority", "low_priority": "low_priority"}


class ComputeTarget:
    """A compute target of the workspace: `ComputeTarget(workspace, name)` reads it.

    Raises:
        ComputeTargetException: no compute target of that name exists.
    """

    def __new__(cls, workspace: Any = None, name: str | None = None) -> "ComputeTarget":
        if workspace is None or name is None:
            return super().__new__(cls)
        record = workspace._conn.get_or_none(f"/api/computes/{quote(name)}",
                                             error=ComputeTargetException)
        if record is None:
            raise ComputeTargetException(f"ComputeTargetNotFound: Compute Target with name "
                                         f"{name} not found in provided workspace")
        target = super().__new__(AmlCompute)
        target._bind(workspace, record)
        return target

    def __init__(self, workspace: Any = None, name: str | None = None) -> None:
        """Bound by __new__."""

    def _bind(self, workspace: Any, record: dict) -> None:
        self.workspace, self._record, self.name = workspace, record, record["name"]
        self.type = "AmlCompute" if record.get("type") == "amlcompute" else record.get("type")
        self.provisioning_state = "Succeeded"

    @staticmethod
    def create(workspace: Any, name: str, provisioning_configuration: Any) -> "AmlCompute":
        """Create (or change) the compute pool name.

        Raises:
            ComputeTargetException: mlcycle refused the configuration.
        """
        spec = {"$schema": COMPUTE_SCHEMA, "name": name, **provisioning_configuration._spec()}
        record = workspace._conn.submit("/api/computes", spec, error=ComputeTargetException)
        target = AmlCompute.__new__(AmlCompute)
        target._bind(workspace, record)
        return target

    @staticmethod
    def list(workspace: Any) -> list:
        """Every compute target of the workspace."""
        targets = []
        for record in workspace._conn.json("GET", "/api/computes",
                                           error=ComputeTargetException).get("value", []):
            target = AmlCompute.__new__(AmlCompute)
            target._bind(workspace, record)
            targets.append(target)
        return targets

    def refresh_state(self) -> None:
        """Read the target again."""
        self._record = self.workspace._conn.json("GET", f"/api/computes/{quote(self.name)}",
                                                 error=ComputeTargetException)

    def get_status(self) -> "AmlComputeStatus":
        """The pool's nodes and state, read now."""
        self.refresh_state()
        return AmlComputeStatus(self._record)

    def wait_for_completion(self, show_output: bool = False, min_node_count: int | None = None,
                            timeout_in_minutes: int = 25,
                            is_delete_operation: bool = False) -> None:
        """Wait until provisioning is done and, with min_node_count, that many nodes are
        up. Locally a pool is provisioned at once and resized when mlcycle resizes it.

        Raises:
            ComputeTargetException: the nodes did not come in time.
        """
        deadline = time.monotonic() + timeout_in_minutes * 60
        while self.get_status().current_node_count < (min_node_count or 0):
            if time.monotonic() > deadline:
                raise ComputeTargetException(f"{self.name}: {min_node_count} node(s) were not "
                                             f"up within {timeout_in_minutes} minutes")
            time.sleep(0.5)
        if show_output:
            print("Succeeded\nAmlCompute wait for completion finished\n")
            if min_node_count:
                print("Minimum number of nodes requested have been provisioned")

    def serialize(self) -> dict:
        """The target as v1 describes one."""
        return {"name": self.name, "type": self.type, "provisioningState": self.provisioning_state,
                "properties": dict(self._record)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workspace={self.workspace!r}, name={self.name})"


class AmlComputeStatus:
    """A pool's node counts as v1 names them."""

    def __init__(self, record: dict) -> None:
        self.current_node_count = int(record.get("current_nodes") or 0)
        self.target_node_count = int(record.get("target_nodes") or 0)
        self.idle_node_count = int(record.get("idle_nodes") or 0)
        self.running_node_count = max(self.current_node_count - self.idle_node_count, 0)
        self.provisioning_state = "Succeeded"
        self.allocation_state = "Steady"
        self.vm_size, self.vm_priority = record.get("size"), record.get("tier")
        self.scale_settings = {"minNodeCount": record.get("min_instances"),
                               "maxNodeCount": record.get("max_instances"),
                               "nodeIdleTimeBeforeScaleDown":
                                   record.get("idle_time_before_scale_down")}

    def serialize(self) -> dict:
        """The status as a dict."""
        return dict(vars(self))


class AmlCompute(ComputeTarget):
    """A compute pool (Azure ML compute cluster): nodes come as jobs need them, between
    min_nodes and max_nodes, and go after idle_seconds_before_scaledown."""

    @staticmethod
    def provisioning_configuration(vm_size: str = "", vm_priority: str = "dedicated",
                                   min_nodes: int = 0, max_nodes: int | None = None,
                                   idle_seconds_before_scaledown: int | None = None,
                                   **kwargs: Any) -> "AmlComputeProvisioningConfiguration":
        """The pool's size (VM size, recorded: local nodes are slots of this machine),
        node range, idle time and priority ("dedicated" or "lowpriority")."""
        return AmlComputeProvisioningConfiguration(vm_size, vm_priority, min_nodes,
                                                   max_nodes, idle_seconds_before_scaledown,
                                                   kwargs.get("description"))


class AmlComputeProvisioningConfiguration:
    """What ComputeTarget.create makes a pool with."""

    def __init__(self, vm_size: str, vm_priority: str, min_nodes: int, max_nodes: int | None,
                 idle_seconds_before_scaledown: int | None, description: str | None) -> None:
        if vm_priority.lower() not in _TIERS:
            raise ComputeTargetException(f"vm_priority {vm_priority!r} is not 'dedicated' or "
                                         "'lowpriority'")
        self.vm_size, self.vm_priority = vm_size, vm_priority
        self.min_nodes, self.max_nodes = min_nodes, max_nodes if max_nodes is not None else 4
        self.idle_seconds_before_scaledown = idle_seconds_before_scaledown
        self.description = description

    def _spec(self) -> dict:
        spec = {"type": "amlcompute", "size": self.vm_size or None,
                "min_instances": self.min_nodes, "max_instances": self.max_nodes,
                "idle_time_before_scale_down": self.idle_seconds_before_scaledown,
                "tier": _TIERS[self.vm_priority.lower()], "description": self.description}
        return {k: v for k, v in spec.items() if v is not None}


__all__ = ["AmlCompute", "ComputeTarget"]
