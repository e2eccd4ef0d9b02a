"""The ports the handlers depend on. Adapters implement them; handlers never import azure.*.

Blob paths are "<container>/<name>", e.g. "runs/<run_id>/outputs/model.pkl".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Protocol

from shared.domain.messages import Envelope
from shared.domain.settlement import RetryPolicy, Settlement


class BlobStore(Protocol):
    """Files by path. Writes are atomic: a reader never sees half a file."""

    def put(self, path: str, data: bytes) -> None: ...
    def put_file(self, path: str, src: Path) -> None:
        """Store the content of the local file src (read through a link, if it is one)."""
        ...
    def get(self, path: str) -> bytes:
        """Raises NotFound."""
        ...
    def exists(self, path: str) -> bool: ...
    def list(self, prefix: str) -> list[str]:
        """Paths of every file under prefix (recursive), sorted."""
        ...
    def delete(self, path: str) -> None: ...
    def upload_dir(self, src: Path, prefix: str) -> None: ...
    def download(self, prefix: str, dest: Path) -> None:
        """A file (prefix is a file path) or everything under a folder prefix into dest."""
        ...
    def local_path(self, path: str) -> Path | None:
        """Where the file lies on this machine, if it does (local twin only)."""
        ...


@dataclass(frozen=True)
class Received:
    """A message delivered under a peek-lock."""

    envelope: Envelope
    lock_token: str
    delivery_count: int
    queue: str


class Bus(Protocol):
    """Queues with at-least-once delivery, duplicate detection on envelope id,
    peek-lock, retries with backoff and a dead-letter queue per queue."""

    max_deliveries: int  # `abandon` dead-letters a message on its max_deliveries-th delivery

    @property
    def policy(self) -> RetryPolicy:
        """Retries, backoff and giving up: shared.domain.settlement."""
        ...
    def publish(self, envelope: Envelope, *, delay_s: float = 0.0) -> None:
        """Send to the message type's queue; events with no queue go to the event log."""
        ...
    def receive(self, queue: str, *, max_wait_s: float = 0.0) -> Received | None: ...
    def complete(self, received: Received) -> None: ...
    def settle(self, received: Received, settlement: Settlement) -> None:
        """Carry out the policy's decision: complete, retry after its delay, or
        dead-letter with its reason."""
        ...
    def abandon(self, received: Received, reason: str) -> None:
        """Give the message back for a retry with backoff, or dead-letter it after
        the queue's maximum delivery count (the policy's decision for `reason`)."""
        ...
    def dead_letter(self, received: Received, reason: str) -> None: ...
    def dead_letters(self, queue: str) -> list[dict]: ...
    def replay_dead_letter(self, queue: str, message_id: str) -> None:
        """Send a dead letter back to its queue with a fresh delivery count. Raises
        NotFound if the queue holds no dead letter with that id."""
    def events(self, correlation_id: str | None = None) -> list[Envelope]: ...


@dataclass
class Record:
    kind: str
    name: str
    version: str
    body: dict
    etag: str = ""


FILTERABLE = ("compute", "status", "state")  # body fields Registry.list can filter on


def checked_filter(where: Mapping[str, str] | None) -> dict[str, str]:
    """`where` of Registry.list, refused if it names a field the adapters do not index."""
    where = dict(where or {})
    if unknown := sorted(set(where) - set(FILTERABLE)):
        raise ValueError(f"cannot filter records on {', '.join(unknown)}; "
                         f"only on {', '.join(FILTERABLE)}")
    return where


class Registry(Protocol):
    """Records of datasets, runs, models, endpoints, deployments and computes, keyed by
    (kind, name, version); optimistic concurrency on the etag."""

    def get(self, kind: str, name: str, version: str = "") -> Record | None: ...
    def put(self, record: Record, *, etag: str | None = None) -> Record:
        """Insert or replace. etag None: unconditional; "": must not exist yet;
        otherwise must match the stored etag. Raises Conflict."""
        ...
    def list(self, kind: str, name: str | None = None, *,
             where: Mapping[str, str] | None = None) -> list[Record]:
        """Records of kind (and name), in insertion order; `where` keeps those whose
        body has each given top-level field equal to the value. Only FILTERABLE fields
        may be named: the adapters index them (a Table Storage query filters on them at
        the server), so a timer does not read every run ever made."""
        ...
    def allocate_version(self, kind: str, name: str, key: str) -> str:
        """The next integer version of name, reserved once per key: the same key always
        gets the same version, two keys never get the same one."""
        ...
    def delete(self, kind: str, name: str, version: str = "") -> None: ...


@dataclass(frozen=True)
class NodeState:
    """What the compute knows of a run's processes."""

    state: str  # "unknown" | "running" | "exited"
    exit_code: int | None = None
    failed_rank: int | None = None
    reason: str = ""  # "", "canceled", "timeout", "lost"
    started_at: str = ""
    ended_at: str = ""


class Compute(Protocol):
    """Runs launch plans. submit, cancel and collect are idempotent.

    builds_environments: True where the nodes build a run's venv themselves (Batch, from
    the pip list on the task); job-launch then builds nothing where it runs."""

    builds_environments: bool

    def submit(self, plan: "LaunchPlan") -> None: ...
    def poll(self, run_id: str) -> NodeState:
        """"exited" once every node has ended; "running" while any runs — with the
        failing node's exit_code, failed_rank and reason filled in when one has already
        ended badly, so that the caller can stop the others."""
        ...
    def cancel(self, run_id: str) -> None: ...
    def read_log(self, run_id: str, rank: int, offset: int) -> bytes:
        """Bytes of std_log_process_<rank>.txt from offset, while the run is going."""
        ...
    def collect(self, run_id: str, blobs: BlobStore) -> list[str]:
        """Upload outputs/, logs/, user_logs/, named outputs and mlruns to runs/<id>/.
        Returns warnings for run history: what was left out (links that led out of the
        run's folder), and why."""
        ...
    def running(self) -> list[str]:
        """Run ids whose processes this compute knows of."""
        ...


class MetricsCompute(Protocol):
    """A compute that can read what a run's processes have logged to MLflow while they
    run, so that a sweep's early termination can act before its trials end.
    LocalCompute reads the node folders. BatchCompute does not implement it yet: it
    would list and download `wd/node/mlruns/*/*/metrics/*` of the run's task through
    Batch's file API (as read_log reads a log), one request per metric file; without
    it a sweep's policy stops no trial, and the sweep says so in its warnings."""

    def read_metrics(self, run_id: str) -> dict[str, list[dict]]:
        """Metric key -> points {"value", "step", "timestamp"} in step order, as
        shared.runner.metrics reads a store; {} for a run with no store (yet)."""
        ...


class PoolCompute(Protocol):
    """A compute whose pools live outside this process (Azure Batch). LocalCompute has
    none: its nodes are slots on this machine that compute-scale's ledger alone
    describes, so it does not implement this, and compute-scale calls `resize` only on a
    compute that has it."""

    def resize(self, pool: dict) -> None:
        """Make the pool of a compute record hold the nodes compute-scale decided.

        pool: the compute record's body as compute-scale wrote it: `name`, `size`,
            `tier` ("dedicated" | "low_priority"), `max_instances`, `target_nodes`.
        Creates the pool from the record on first use; idempotent. Raises
        TransientError while the pool cannot be resized yet.
        """
        ...


class Clock(Protocol):
    def now(self) -> str:
        """ISO-8601 UTC."""
        ...


@dataclass(frozen=True)
class ProcessSpec:
    rank: int
    local_rank: int
    command: str  # run with bash -c in the node's code directory
    env: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NodeSpec:
    index: int
    processes: tuple[ProcessSpec, ...]


@dataclass(frozen=True)
class LaunchPlan:
    """What to run, where, with which environment. A pure value: one plan, two executors.

    Commands and env values may contain ${MLCYCLE_NODE_DIR}, which the node bootstrap
    sets to its own working directory (code/, inputs/<name>/, named_outputs/<name>/,
    user_logs/, mlruns/ lie under it)."""

    run_id: str
    snapshot: str  # blob path of the code snapshot (tar.gz)
    inputs: dict  # name -> {"blob": path, "mode": "file"|"folder"}; staged into inputs/<name>/
    outputs: tuple[str, ...]  # named outputs: folders named_outputs/<name>/
    nodes: tuple[NodeSpec, ...]
    timeout_s: float | None = None
    interpreter: str | None = None  # python of the run's environment; None: the host's


