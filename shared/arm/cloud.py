"""The documents azure-ai-ml reads before any resource: the cloud's metadata (where its
Resource Manager, portal and storage are, as `ARM_CLOUD_METADATA_URL` serves it) and a
workspace's discovery document (where run history is)."""
from __future__ import annotations

from urllib.parse import urlsplit

from shared.api.replies import Reply
from shared.arm.call import Call

CLOUD_NAME = "mlcycle"  # AZUREML_CURRENT_CLOUD names it


def resource_manager(base: str) -> str:
    return f"{base}/api/"


def storage_suffix(base: str) -> str:
    """What the SDK puts after "<account>.blob." to reach a datastore's account. The SDK
    builds the account URL as "https://{account}.blob.{suffix}", a host name that would
    need DNS of its own; a suffix of "mlcycle@127.0.0.1:port/api/storage" turns everything
    before the "@" into the URL's user part, so the request reaches this host's Blob API
    subset instead (the user part is sent as a Basic header, which the Blob API ignores:
    it checks the signature in the query)."""
    return f"{CLOUD_NAME}@{urlsplit(base).netloc}/api/storage"


def storage_account_url(base: str, account: str) -> str:
    return f"https://{account}.blob.{storage_suffix(base)}"


def cloud_metadata(call: Call, ports: dict) -> Reply:
    """ARM's cloud metadata document, naming this host for every service."""
    base = call.base
    return Reply(200, [{
        "name": CLOUD_NAME,
        "portal": f"{base}/",
        "resourceManager": resource_manager(base),
        "authentication": {"loginEndpoint": f"{base}/api/arm/login/",
                           "audiences": [resource_manager(base)], "tenant": "common",
                           "identityProvider": "AAD"},
        "suffixes": {"storage": storage_suffix(base), "acrLoginServer": "localhost",
                     "keyVaultDns": "localhost"},
        "media": f"{base}/", "graph": f"{base}/", "sqlManagement": f"{base}/",
        "batch": f"{base}/", "gallery": f"{base}/",
    }])


def discovery(call: Call) -> Reply:
    """Where a workspace's data-plane services are: all of them on this host."""
    api = f"{call.base}/api"
    services = ("api", "catalog", "experimentation", "history", "hyperdrive", "labeling",
                "modelmanagement", "pipelines")
    return Reply(200, {**{name: api for name in services}, "studio": f"{call.base}/"})
