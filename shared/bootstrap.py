"""One place that builds the adapters. Nothing else constructs a client, and nothing is
built at import time: trigger functions ask for `current()` when they run."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from shared.ports import BlobStore, Bus, Clock, Compute, Registry
from shared.settings import Settings


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

    def ports(self) -> dict:
        return {"blobs": self.blobs, "bus": self.bus, "registry": self.registry,
                "compute": self.compute, "clock": self.clock, "settings": self.settings,
                "scorer": self.scorer}


def bootstrap(settings: Settings) -> Container:
    """The embedded default: local folders, a SQLite bus and registry, local processes."""
    from shared.adapters.local_blob import LocalBlobStore
    from shared.adapters.local_compute import LocalCompute
    from shared.adapters.sqlite_bus import SqliteBus
    from shared.adapters.sqlite_registry import SqliteRegistry
    from shared.serving import Scorer

    settings.data_root.mkdir(parents=True, exist_ok=True)
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
    )


_lock = threading.Lock()
_current: Container | None = None


def current() -> Container:
    """The process's container, built from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = bootstrap(Settings.from_env())
        return _current


def install(container: Container | None) -> None:
    """Make `container` the one trigger functions use (local host, tests)."""
    global _current
    with _lock:
        _current = container
