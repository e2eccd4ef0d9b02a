"""App settings, read from the environment (app settings in Azure, env vars locally)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from shared.runner.unpack import DEFAULT_MAX_BYTES, DEFAULT_MAX_MEMBERS


def mlcycle_home() -> Path:
    return Path(os.environ.get("MLCYCLE_HOME", Path.home() / ".mlcycle"))


@dataclass(frozen=True)
class AzureSettings:
    """Where the Azure adapters point. In Azure every connection is identity-based (the
    app's managed identity, through DefaultAzureCredential); the connection strings exist
    for development against emulators such as Azurite, and are kept out of repr and logs.

    Each value is read from mlcycle's own setting first, then from the Functions host's
    identity-based connection settings that name the same resource.
    """

    storage_account: str = ""  # MLCYCLE_STORAGE_ACCOUNT, AzureWebJobsStorage__accountName
    blob_service_uri: str = ""  # AzureWebJobsStorage__blobServiceUri (other clouds)
    table_service_uri: str = ""  # AzureWebJobsStorage__tableServiceUri
    servicebus_namespace: str = ""  # MLCYCLE_SERVICEBUS_NAMESPACE, ServiceBusConnection__fullyQualifiedNamespace
    batch_account_url: str = ""  # MLCYCLE_BATCH_ACCOUNT_URL
    registry_table: str = "registry"  # MLCYCLE_REGISTRY_TABLE
    events_topic: str = ""  # MLCYCLE_EVENTS_TOPIC; empty: events are only logged
    managed_identity_client_id: str = ""  # a user-assigned identity's client id, if any
    # Batch pools (PoolDefaults.from_settings); empty keeps the adapter's default.
    batch_vm_size: str = ""  # MLCYCLE_BATCH_VM_SIZE: for computes that name no size
    batch_image: str = ""  # MLCYCLE_BATCH_IMAGE: publisher:offer:sku:version
    batch_node_agent_sku: str = ""  # MLCYCLE_BATCH_NODE_AGENT_SKU: matches the image
    batch_default_image: str = ""  # MLCYCLE_BATCH_DEFAULT_IMAGE: container of imageless runs
    batch_container_images: str = ""  # MLCYCLE_BATCH_CONTAINER_IMAGES: comma-separated, prefetched
    storage_connection_string: str = field(default="", repr=False)
    servicebus_connection_string: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "AzureSettings":
        web_jobs = env.get("AzureWebJobsStorage", "")
        servicebus = env.get("ServiceBusConnection", "")
        return cls(
            storage_account=_first(env, "MLCYCLE_STORAGE_ACCOUNT",
                                   "AzureWebJobsStorage__accountName"),
            blob_service_uri=env.get("AzureWebJobsStorage__blobServiceUri", ""),
            table_service_uri=env.get("AzureWebJobsStorage__tableServiceUri", ""),
            servicebus_namespace=_first(env, "MLCYCLE_SERVICEBUS_NAMESPACE",
                                        "ServiceBusConnection__fullyQualifiedNamespace"),
            batch_account_url=env.get("MLCYCLE_BATCH_ACCOUNT_URL", ""),
            registry_table=env.get("MLCYCLE_REGISTRY_TABLE") or "registry",
            events_topic=env.get("MLCYCLE_EVENTS_TOPIC", ""),
            managed_identity_client_id=_first(env, "AzureWebJobsStorage__clientId",
                                              "AZURE_CLIENT_ID"),
            batch_vm_size=env.get("MLCYCLE_BATCH_VM_SIZE", ""),
            batch_image=env.get("MLCYCLE_BATCH_IMAGE", ""),
            batch_node_agent_sku=env.get("MLCYCLE_BATCH_NODE_AGENT_SKU", ""),
            batch_default_image=env.get("MLCYCLE_BATCH_DEFAULT_IMAGE", ""),
            batch_container_images=env.get("MLCYCLE_BATCH_CONTAINER_IMAGES", ""),
            # The Functions host's own settings hold a connection string only when they
            # hold a secret at all; an identity-based connection uses the "__" forms.
            storage_connection_string=env.get("MLCYCLE_STORAGE_CONNECTION_STRING") or (
                web_jobs if "=" in web_jobs else ""),
            servicebus_connection_string=env.get("MLCYCLE_SERVICEBUS_CONNECTION_STRING") or (
                servicebus if "=" in servicebus else ""),
        )

    @property
    def blob_url(self) -> str:
        return self.blob_service_uri or f"https://{self.storage_account}.blob.core.windows.net"

    @property
    def table_url(self) -> str:
        return self.table_service_uri or f"https://{self.storage_account}.table.core.windows.net"

    def missing(self) -> list[str]:
        """The settings Azure mode cannot do without, by name, if unset."""
        gaps = []
        if not (self.storage_account or self.storage_connection_string
                or (self.blob_service_uri and self.table_service_uri)):
            gaps.append("MLCYCLE_STORAGE_ACCOUNT (or AzureWebJobsStorage__accountName)")
        if not (self.servicebus_namespace or self.servicebus_connection_string):
            gaps.append("MLCYCLE_SERVICEBUS_NAMESPACE "
                        "(or ServiceBusConnection__fullyQualifiedNamespace)")
        return gaps


@dataclass(frozen=True)
class Settings:
    data_root: Path
    max_deliveries: int = 5
    lock_timeout_s: float = 300.0
    retry_backoff_s: float = 1.0
    mode: str = "local"  # "local": the embedded default; "azure": the Azure adapters
    azure: AzureSettings = field(default_factory=AzureSettings)
    # The SDK door (shared/arm): the workspace it serves, and the key its callers send as
    # a bearer token and its upload URLs are signed with. Locally `mlcycle up` sets the
    # key; on Azure MLCYCLE_API_KEY (unset: the door refuses every call).
    workspace_name: str = "mlcycle"
    api_key: str = field(default="", repr=False)
    # What one archive from outside (a CLI bundle, a code snapshot) may unpack to: bytes
    # of content (MLCYCLE_MAX_UNPACKED_BYTES) and files, folders and links
    # (MLCYCLE_MAX_UNPACKED_MEMBERS). Over either it is refused (413 / 400).
    max_unpacked_bytes: int = DEFAULT_MAX_BYTES
    max_unpacked_members: int = DEFAULT_MAX_MEMBERS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """MLCYCLE_MODE picks the adapters. Unset, Azure mode follows from a Service Bus
        connection, which only a deployed (or deliberately wired) function app has:
        AzureWebJobsStorage alone does not decide, as `func start` sets it locally too."""
        env = os.environ if env is None else env
        azure = AzureSettings.from_env(env)
        wired = azure.servicebus_namespace or azure.servicebus_connection_string
        root = env.get("MLCYCLE_DATA_ROOT") or mlcycle_home() / "data"
        return cls(
            data_root=Path(root),
            max_deliveries=int(env.get("MLCYCLE_MAX_DELIVERIES", 5)),
            lock_timeout_s=float(env.get("MLCYCLE_LOCK_TIMEOUT_S", 300)),
            retry_backoff_s=float(env.get("MLCYCLE_RETRY_BACKOFF_S", 1.0)),
            mode=env.get("MLCYCLE_MODE") or ("azure" if wired else "local"),
            azure=azure,
            workspace_name=env.get("MLCYCLE_WORKSPACE_NAME") or "mlcycle",
            api_key=env.get("MLCYCLE_API_KEY", ""),
            max_unpacked_bytes=int(env.get("MLCYCLE_MAX_UNPACKED_BYTES") or DEFAULT_MAX_BYTES),
            max_unpacked_members=int(env.get("MLCYCLE_MAX_UNPACKED_MEMBERS")
                                     or DEFAULT_MAX_MEMBERS),
        )

    @property
    def bus_path(self) -> Path:
        return self.data_root / "bus.sqlite"

    @property
    def registry_path(self) -> Path:
        return self.data_root / "registry.sqlite"

    @property
    def blob_root(self) -> Path:
        return self.data_root / "blobs"

    @property
    def work_root(self) -> Path:
        return self.data_root / "work"


def _first(env: Mapping[str, str], *names: str) -> str:
    return next((env[n] for n in names if env.get(n)), "")
