"""One place that builds the adapters. Nothing else constructs a client, and nothing is
built at import time: trigger functions ask for `current()` when they run."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from shared.ports import BlobStore, Bus, Clock, Compute, Registry
from shared.private_files import private_dir
from shared.settings import AzureSettings, Settings


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> str:
        return datetime.now(timezone.utc).isoformat()


@dataclass
class Container:
    settings: Settings
    blobs: BlobStore
    bus: Bus
    registry: Registry
    compute: Compute
    clock: Clock
    scorer: object  # shared.serving.Scorer: onnxruntime sessions shared by every request
    # True where the Functions host settles queue messages (Azure): triggers then settle a
    # failure by forwarding it (functions/queue.py). Locally the queue workers settle.
    forwards_failures: bool = False
    # shared.serving.ScriptServers: the scoring-script servers, locally; None on Azure,
    # where a Functions worker cannot keep a server process of its own.
    scripts: object = None

    def ports(self) -> dict:
        return {"blobs": self.blobs, "bus": self.bus, "registry": self.registry,
                "compute": self.compute, "clock": self.clock, "settings": self.settings,
                "scorer": self.scorer, "scripts": self.scripts}


def bootstrap(settings: Settings) -> Container:
    """The adapters settings.mode names: the embedded default ("local": local folders, a
    SQLite bus and registry, local processes) or Azure's ("azure"). Raises ValueError
    for another mode, or for Azure settings that name no storage or no Service Bus."""
    if settings.mode == "azure":
        return _azure(settings)
    if settings.mode != "local":
        raise ValueError(f"MLCYCLE_MODE must be 'local' or 'azure', not {settings.mode!r}")
    return _local(settings)


def _local(settings: Settings) -> Container:
    from shared.adapters.local_blob import LocalBlobStore
    from shared.adapters.local_compute import LocalCompute
    from shared.adapters.sqlite_bus import SqliteBus
    from shared.adapters.sqlite_registry import SqliteRegistry
    from shared.runner.venvs import envs_root
    from shared.serving import Scorer
    from shared.serving.script_servers import ScriptServers

    private_dir(settings.data_root)
    bus = SqliteBus(settings.bus_path, max_deliveries=settings.max_deliveries,
                    lock_timeout_s=settings.lock_timeout_s,
                    backoff_s=settings.retry_backoff_s)
    blobs = LocalBlobStore(settings.blob_root)
    return Container(
        settings=settings,
        blobs=blobs,
        bus=bus,
        registry=SqliteRegistry(settings.registry_path),
        compute=LocalCompute(settings.work_root, blobs=blobs, bus_path=settings.bus_path),
        clock=SystemClock(),
        scorer=Scorer(),
        scripts=ScriptServers(settings.data_root / "serving", blobs=blobs,
                              envs=envs_root(settings.data_root)),
    )


def _azure(settings: Settings) -> Container:
    """Clients are built here, when the first trigger runs, and connect on first use."""
    from shared.adapters.azure_blob import AzureBlobStore
    from shared.adapters.servicebus_bus import ServiceBusBus
    from shared.adapters.table_registry import TableRegistry
    from shared.serving import Scorer

    azure = settings.azure
    if missing := azure.missing():
        raise ValueError("MLCYCLE_MODE is azure but these app settings are unset: "
                         + ", ".join(missing))
    credential = _credential(azure)
    storage = azure.storage_connection_string
    blobs = (AzureBlobStore.from_connection_string(storage) if storage
             else AzureBlobStore.from_account_url(azure.blob_url, credential))
    registry = (TableRegistry.from_connection_string(storage, table=azure.registry_table)
                if storage else TableRegistry.from_account_url(
                    azure.table_url, credential, table=azure.registry_table))
    options = {"max_deliveries": settings.max_deliveries,
               "backoff_s": settings.retry_backoff_s, "events_topic": azure.events_topic or None}
    bus = (ServiceBusBus.from_connection_string(azure.servicebus_connection_string, **options)
           if azure.servicebus_connection_string
           else ServiceBusBus.from_namespace(azure.servicebus_namespace, credential, **options))
    return Container(settings=settings, blobs=blobs, bus=bus, registry=registry,
                     compute=_batch_compute(settings, blobs, registry, credential),
                     clock=SystemClock(), scorer=Scorer(), forwards_failures=True)


def _credential(azure: AzureSettings):
    from azure.identity import DefaultAzureCredential

    # Builds no token until a client asks for one.
    return DefaultAzureCredential(
        managed_identity_client_id=azure.managed_identity_client_id or None)


def _batch_compute(settings: Settings, blobs: BlobStore, registry: Registry,
                   credential) -> Compute:
    from shared.adapters.batch_compute import BatchCompute
    from shared.adapters.batch_pools import PoolDefaults

    return BatchCompute(settings.azure.batch_account_url, credential=credential, blobs=blobs,
                        registry=registry, defaults=PoolDefaults.from_settings(settings.azure))


_lock = threading.Lock()
_current: Container | None = None


def current() -> Container:
    """The process's container, built from the environment on first use."""
    global _current
    found = _current  # every scoring request asks: no lock once it is there
    if found is not None:
        return found
    with _lock:
        if _current is None:
            _current = bootstrap(Settings.from_env())
        return _current


def install(container: Container | None) -> None:
    """Make `container` the one trigger functions use (local host, tests)."""
    global _current
    with _lock:
        _current = container
