"""Job routes: list, show, logs while running, cancel, files."""
from __future__ import annotations

from shared.api.replies import BadRequest, Reply, view
from shared.domain.errors import NotFound
from shared.domain.records import require
from shared.domain.runs import transition
from shared.domain.status import RunStatus
from shared.ports import BlobStore, Clock, Compute, Registry


def list_jobs(*, registry: Registry) -> Reply:
    runs = [view(r.body) for r in registry.list("run")]
    return Reply(200, {"value": runs[::-1]})


def show_job(run_id: str, *, registry: Registry) -> Reply:
    return Reply(200, view(require(registry, "run", run_id).body))


def job_logs(run_id: str, params: dict, *, registry: Registry, compute: Compute,
             blobs: BlobStore) -> Reply:
    run = require(registry, "run", run_id).body
    rank, offset = _int(params, "rank", 0), _int(params, "offset", 0)
    status = RunStatus(run["status"])
    if status.terminal:
        path = f"runs/{run_id}/user_logs/std_log_process_{rank}.txt"
        data = blobs.get(path)[offset:] if blobs.exists(path) else b""
    elif status.rank >= RunStatus.STARTING.rank:
        data = compute.read_log(run_id, rank, offset)
    else:
        data = b""
    return Reply(200, data, {"Content-Type": "text/plain; charset=utf-8",
                             "x-next-offset": str(offset + len(data)),
                             "x-run-status": status.value})


def cancel_job(run_id: str, *, registry: Registry, compute: Compute, clock: Clock) -> Reply:
    run = require(registry, "run", run_id).body
    status = RunStatus(run["status"])
    if status in (RunStatus.NOT_STARTED, RunStatus.QUEUED):
        # Not launched: nothing runs, so it ends here. A LaunchJob still queued will
        # find the run over and do nothing.
        transition(registry, run_id, RunStatus.CANCELED, clock)
    elif not status.terminal:
        transition(registry, run_id, RunStatus.CANCEL_REQUESTED, clock)
        compute.cancel(run_id)  # the node reports back and job-complete records Canceled
    return show_job(run_id, registry=registry)


def list_files(run_id: str, *, registry: Registry, blobs: BlobStore) -> Reply:
    require(registry, "run", run_id)
    prefix = f"runs/{run_id}/"
    names = [p[len(prefix):] for p in blobs.list(prefix.rstrip("/"))]
    return Reply(200, {"value": [n for n in names if not n.startswith("mlruns/")]})


def get_file(run_id: str, path: str, *, registry: Registry, blobs: BlobStore) -> Reply:
    require(registry, "run", run_id)
    if not path or ".." in path.split("/"):
        raise BadRequest(f"invalid file path {path!r}")
    blob = f"runs/{run_id}/{path}"
    if not blobs.exists(blob):
        raise NotFound(f"job {run_id} has no file {path!r}")
    return Reply(200, blobs.get(blob), {"Content-Type": "application/octet-stream"})


def _int(params: dict, name: str, default: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"query parameter {name!r} must be an integer") from None
    if value < 0:
        raise BadRequest(f"query parameter {name!r} must not be negative")
    return value
