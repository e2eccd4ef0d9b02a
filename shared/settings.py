"""App settings, read from the environment (app settings in Azure, env vars locally)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def mlcycle_home() -> Path:
    return Path(os.environ.get("MLCYCLE_HOME", Path.home() / ".mlcycle"))


@dataclass(frozen=True)
class Settings:
    data_root: Path
    max_deliveries: int = 5
    lock_timeout_s: float = 300.0
    retry_backoff_s: float = 1.0

    @classmethod
    def from_env(cls) -> "Settings":
        root = os.environ.get("MLCYCLE_DATA_ROOT") or mlcycle_home() / "data"
        return cls(
            data_root=Path(root),
            max_deliveries=int(os.environ.get("MLCYCLE_MAX_DELIVERIES", 5)),
            lock_timeout_s=float(os.environ.get("MLCYCLE_LOCK_TIMEOUT_S", 300)),
            retry_backoff_s=float(os.environ.get("MLCYCLE_RETRY_BACKOFF_S", 1.0)),
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
