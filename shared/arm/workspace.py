"""The workspace itself: what `ml_client.workspaces.get()` reads first."""
from __future__ import annotations

import uuid

from shared.api.replies import Reply
from shared.arm.call import Call
from shared.arm.scope import LOCATION, PROVIDER, Scope
from shared.arm.shapes import system_data


def get_workspace(call: Call, ports: dict, *, scope: Scope) -> Reply:
    group = f"/subscriptions/{scope.subscription}/resourceGroups/{scope.resource_group}"
    return Reply(200, {
        "id": scope.workspace_id, "name": scope.workspace, "location": LOCATION,
        "type": f"{PROVIDER}/workspaces", "kind": "Default", "tags": {},
        "properties": {
            "friendlyName": scope.workspace, "description": "an mlcycle workspace",
            "workspaceId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"mlcycle:{scope.workspace}")),
            "discoveryUrl": f"{call.base}/api/arm/discovery",
            "storageAccount": f"{group}/providers/Microsoft.Storage/storageAccounts/mlcycle",
            "keyVault": f"{group}/providers/Microsoft.KeyVault/vaults/mlcycle",
            "applicationInsights": f"{group}/providers/Microsoft.Insights/components/mlcycle",
            "hbiWorkspace": False, "provisioningState": "Succeeded",
            "publicNetworkAccess": "Disabled", "v1LegacyMode": False,
        },
        "systemData": system_data(None),
    })


ROUTES = [("GET", "", get_workspace)]
