"""Where a resource lives in ARM's terms, and the ids that say so."""
from __future__ import annotations

from dataclasses import dataclass

PROVIDER = "Microsoft.MachineLearningServices"
LOCATION = "local"  # the region every resource reports; nothing depends on it


@dataclass(frozen=True)
class Scope:
    """The subscription, resource group and workspace a request names. Any subscription
    and resource group are taken (a script keeps the ones it had); the workspace must be
    the one this host serves."""

    subscription: str
    resource_group: str
    workspace: str

    @property
    def workspace_id(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/{PROVIDER}/workspaces/{self.workspace}")

    def id(self, *parts: str) -> str:
        """The ARM id of a workspace resource: id("jobs", name), id("models", n, "versions", v)."""
        return "/".join((self.workspace_id, *parts))

    def azureml_id(self, *parts: str) -> str:
        """The `azureml:`-prefixed id the SDK writes in references (environmentId, codeId)."""
        return "azureml:" + self.id(*parts)


def last_segment(arm_id: str | None, after: str) -> str | None:
    """The name that follows the segment `after` in an ARM id ("/.../codes/x/versions/1",
    "versions" -> "1"), or None."""
    if not arm_id:
        return None
    parts = arm_id.removeprefix("azureml:").strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if after.lower() in lowered:
        i = lowered.index(after.lower())
        return parts[i + 1] if i + 1 < len(parts) else None
    return None
