"""mlcycle's handlers with Azure Batch as their compute: the real BatchCompute and the real
azure-batch SDK, sending over FakeBatch; the embedded twins for the other ports (a
SasBlobStore, the SQLite bus and registry); and a clock that moves only when the test
moves it. Messages are handled as the queue triggers handle them."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from azure.core.credentials import AccessToken

from shared.adapters.batch_compute import BatchCompute
from shared.adapters.sqlite_bus import SqliteBus
from shared.adapters.sqlite_registry import SqliteRegistry
from shared.handlers.compute_scale import tick_pools
from shared.handlers.intake_assets import submit_compute
from shared.handlers.intake_jobs import submit_job
from shared.handlers.reconcile import reconcile_runs
from shared.handlers.registry import handle
from shared.settings import Settings
from shared.specs.types import ComputeSpec, InputSpec, JobSpec
from tests.fakes.batch_rest import FakeBatch
from tests.fakes.sas_blobs import SasBlobStore

ACCOUNT_URL = "https://mlcycle.westeurope.batch.azure.com"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


class FakeCredential:
    """A token credential that needs no Azure AD: the fake checks its token."""

    def get_token(self, *scopes, **kwargs) -> AccessToken:
        return AccessToken("fake-token", int(time.time()) + 3600)


class FakeClock:
    """Time that moves only when the test moves it."""

    def __init__(self) -> None:
        self.time = T0

    def now(self) -> str:
        return self.time.isoformat()

    def advance(self, seconds: float) -> None:
        self.time += timedelta(seconds=seconds)


class BatchWorld:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = SasBlobStore(root / "blobs")
        self.batch = FakeBatch(blobs=self.blobs)
        self.registry = SqliteRegistry(root / "registry.sqlite")
        self.bus = SqliteBus(root / "bus.sqlite", backoff_s=0.01)
        self.clock = FakeClock()
        self.compute = BatchCompute(ACCOUNT_URL, credential=FakeCredential(),
                                    blobs=self.blobs, registry=self.registry,
                                    transport=self.batch)

    def ports(self) -> dict:
        return {"blobs": self.blobs, "bus": self.bus, "registry": self.registry,
                "compute": self.compute, "clock": self.clock, "scorer": None,
                "settings": Settings(self.root / "data")}

    def drain(self, queue: str) -> int:
        """Handle every message on the queue, as its trigger would; how many there were."""
        handled = 0
        while (received := self.bus.receive(queue)) is not None:
            handle(queue, received.envelope.to_json(), self.ports())
            self.bus.complete(received)
            handled += 1
        return handled

    def create_pool(self, name: str = "gpu", *, most: int = 2, idle_s: int = 120,
                    tier: str = "dedicated", size: str = "Standard_NC6s_v3") -> None:
        spec = ComputeSpec(Path("compute.yml"), name, "amlcompute", size, 0, most, idle_s, tier)
        submit_compute(spec, key=name, registry=self.registry, bus=self.bus, clock=self.clock)

    def submit(self, *, nodes: int = 1, distribution: dict | None = None,
               inputs: dict | None = None, timeout_s: float | None = 3600,
               image: str | None = None, compute: str = "gpu") -> str:
        """A job from a code folder with train.py; returns its run id."""
        self.clock.advance(1)
        code = self.root / f"code-{len(self.registry.list('run'))}"
        code.mkdir()
        (code / "train.py").write_text("print('training')\n")
        spec = JobSpec(source=code / "job.yml", command="python train.py", code=code,
                       environment="inline" if image else "AzureML-pytorch@latest",
                       environment_image=image, environment_conda=None, compute=compute,
                       instance_count=nodes, distribution=distribution, timeout_s=timeout_s,
                       inputs=inputs or {}, outputs={}, name=None, display_name=None,
                       experiment_name="batch", description="", tags={})
        key = f"job-{len(self.registry.list('run'))}"
        return submit_job(spec, key=key, blobs=self.blobs, registry=self.registry,
                          bus=self.bus, clock=self.clock)["name"]

    def local_input(self, name: str, content: bytes) -> InputSpec:
        path = self.root / name
        path.write_bytes(content)
        return InputSpec(kind="local", path=path, type="uri_file")

    def local_folder(self, name: str, files: dict[str, bytes]) -> InputSpec:
        folder = self.root / name
        for rel, content in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(content)
        return InputSpec(kind="local", path=folder, type="uri_folder")

    def launch(self) -> None:
        """compute-scale decides (and resizes the Batch pool), job-launch submits."""
        self.drain("compute-scale")
        self.drain("job-launch")

    def reconcile(self) -> list[str]:
        """One tick of the timer's reconciler, then job-complete on what it found."""
        found = reconcile_runs(registry=self.registry, compute=self.compute, bus=self.bus)
        self.drain("job-complete")
        return found

    def tick_pools(self) -> None:
        tick_pools(registry=self.registry, bus=self.bus, clock=self.clock)
        self.drain("compute-scale")

    def run(self, run_id: str) -> dict:
        return self.registry.get("run", run_id).body

    def task(self, run_id: str) -> dict:
        """The body of the task the SDK added to the run's job."""
        [body] = self.batch.bodies("POST", f"/jobs/{run_id}/tasks")
        return body
