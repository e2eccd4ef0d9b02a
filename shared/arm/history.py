"""Run history (`/history/v1.0/...`): a run's details with signed URLs of its log files
(what `ml_client.jobs.stream` polls and prints), the run itself, its children and its
metrics."""
from __future__ import annotations

import json

from shared.api.replies import Reply
from shared.arm.call import Call
from shared.arm.containers import run_container
from shared.arm.job_shapes import studio_url
from shared.arm.sas import LIST, READ, sign
from shared.arm.scope import Scope
from shared.domain.errors import NotFound
from shared.domain.records import require
from shared.domain.status import RunStatus


def process_count(run: dict) -> int:
    """How many processes (ranks) the run's launch plan starts."""
    distribution = run.get("distribution") or {}
    if str(distribution.get("type", "")).lower() == "tensorflow":
        return int(distribution.get("worker_count", 1)) + int(
            distribution.get("parameter_server_count", 0))
    per_node = int(distribution.get("process_count_per_instance", 1) or 1)
    return int(run.get("instance_count") or 1) * per_node


def log_files(run: dict, base: str, ports: dict) -> dict[str, str]:
    """name -> signed URL of each log the run has: the ones uploaded to run history once
    it ended, or, while it runs, one per rank (read from its node)."""
    run_id = run["name"]
    box = run_container(run_id)
    url = f"{base}/api/storage/{box}"
    token = sign(ports["settings"].api_key, box, READ + LIST)
    prefix = f"runs/{run_id}/"
    names = [p[len(prefix):] for p in ports["blobs"].list(f"runs/{run_id}/user_logs")]
    status = RunStatus(run["status"])
    if not names and status.rank >= RunStatus.STARTING.rank and not status.terminal:
        names = [f"user_logs/std_log_process_{rank}.txt" for rank in range(process_count(run))]
    return {name: f"{url}/{name}?{token}" for name in names}


def live_log(ports: dict, run_id: str, rank: int) -> bytes | None:
    """A rank's log while the run is going (None once it has ended or before it starts:
    the uploaded copy, if any, is the one to read)."""
    run = ports["registry"].get("run", run_id)
    if run is None:
        return None
    status = RunStatus(run.body["status"])
    if status.terminal or status.rank < RunStatus.STARTING.rank:
        return None
    return ports["compute"].read_log(run_id, rank, 0)


def get_details(call: Call, ports: dict, *, scope: Scope, run_id: str, **_) -> Reply:
    run = require(ports["registry"], "run", run_id).body
    error = run.get("error")
    return Reply(200, {
        "runId": run_id, "runUuid": None, "status": run["status"],
        "target": run.get("compute"), "experimentId": run.get("experiment_name"),
        "createdTimeUtc": (run.get("creation_context") or {}).get("created_at"),
        "startTimeUtc": run.get("start_time"), "endTimeUtc": run.get("end_time"),
        "error": {"error": {"code": "UserError", "message": error.get("message", "")}}
        if error else None,
        "warnings": [{"source": "mlcycle", "message": w} for w in run.get("warnings") or []],
        "properties": {"exit_code": str(run.get("exit_code"))}
        if run.get("exit_code") is not None else {},
        "services": {"Studio": {"endpoint": studio_url(call.base, run_id)}},
        "logFiles": log_files(run, call.base, ports),
        "inputDatasets": [], "outputDatasets": [],
    })


def get_run(call: Call, ports: dict, *, scope: Scope, run_id: str, **_) -> Reply:
    run = require(ports["registry"], "run", run_id).body
    return Reply(200, {
        "runId": run_id, "status": run["status"], "displayName": run.get("display_name"),
        "experimentId": run.get("experiment_name"), "target": run.get("compute"),
        "startTimeUtc": run.get("start_time"), "endTimeUtc": run.get("end_time"),
        "tags": run.get("tags") or {}, "properties": {},
        "runType": "hyperdrive" if run.get("type") == "sweep" else "azureml.scriptrun",
        "hidden": False, "description": run.get("description") or None,
    })


def get_children(call: Call, ports: dict, *, scope: Scope, run_id: str, **_) -> Reply:
    """A sweep's trials, as runs (a command job has none)."""
    run = require(ports["registry"], "run", run_id).body
    children = []
    for trial in run.get("trials") or []:
        child = ports["registry"].get("run", trial["name"])
        if child is not None:
            reply = get_run(call, ports, scope=scope, run_id=trial["name"])
            children.append({**reply.body, "parentRunId": run_id,
                              "properties": {"hyperparameters": json.dumps(
                                  child.body.get("hyperparameters") or {})}})
    return Reply(200, {"value": children})


def get_metrics(call: Call, ports: dict, *, scope: Scope, run_id: str, **_) -> Reply:
    """The metrics the run logged (MLflow's, ingested at completion): each by name with
    its values in step order."""
    run = ports["registry"].get("run", run_id)
    if run is None:
        raise NotFound(f"job {run_id!r} does not exist")
    metrics = run.body.get("metrics") or {}
    return Reply(200, {"value": [{"name": name, "values": values if isinstance(values, list)
                                  else [values]} for name, values in metrics.items()]})


_RUN = "{run_id}"
ROUTES = [
    (method, f"{where}runs/{_RUN}{tail}", handler)
    for where in ("", "experiments/{experiment}/", "experimentids/{experiment}/")
    for method, tail, handler in (("GET", "/details", get_details), ("GET", "", get_run),
                                  ("GET", "/children", get_children),
                                  ("GET", "/metrics", get_metrics))
]
