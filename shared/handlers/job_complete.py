"""job-complete: record that a run started, and collect a finished run's exit code,
metrics, outputs and logs into run history.

Every node of a run sends its own CompleteJob when it ends. The run is collected once
all nodes have ended; a node that fails first gets its peers stopped."""
from __future__ import annotations

import math

from shared.domain.messages import (AdvanceSweep, CompleteJob, Envelope, JobCompleted,
                                    JobFailed, JobStarted, RegisterModel, ScalePool)
from shared.domain.records import require
from shared.domain.runs import transition
from shared.domain.status import RunStatus
from shared.faults import pause_point
from shared.ports import BlobStore, Bus, Clock, Compute, NodeState, Registry
from shared.runner.metrics import read_run_store
from shared.runner.mlflow_artifacts import publish_artifacts

LOG_TAIL_LINES = 50


def record_start(envelope: Envelope, *, registry: Registry, clock: Clock) -> None:
    msg: JobStarted = envelope.message
    transition(registry, msg.run_id, RunStatus.RUNNING, clock, start_time=msg.started_at)


def complete_job(envelope: Envelope, *, registry: Registry, compute: Compute,
                 blobs: BlobStore, bus: Bus, clock: Clock) -> None:
    msg: CompleteJob = envelope.message
    run = require(registry, "run", msg.run_id).body
    if run.get("type") == "sweep":
        return  # a sweep runs no process of its own; its trials are collected
    if RunStatus(run["status"]).terminal:
        _follow_up(envelope, run, bus)  # a redelivery: make sure the follow-ups went out
        return
    state = compute.poll(msg.run_id)
    if state.state == "running":
        if state.reason or state.exit_code not in (None, 0):
            # One node ended badly while its peers run on: they would wait for it until
            # the timeout. Stop them; each reports when it has, and the last report
            # finds the run over, blamed on the node that failed first.
            compute.cancel(msg.run_id)
        return  # not over yet; the nodes report again when they end
    if state.state == "unknown":
        state = NodeState("exited", reason="lost")
    cancel = run["status"] == RunStatus.CANCEL_REQUESTED.value or state.reason == "canceled"
    if not cancel:
        if state.started_at:
            transition(registry, msg.run_id, RunStatus.RUNNING, clock,
                       start_time=state.started_at)
        transition(registry, msg.run_id, RunStatus.FINALIZING, clock)
    left_out = compute.collect(msg.run_id, blobs) if state.reason != "lost" else []
    # What MLflow recorded describes the run; it never decides how the run ended.
    store = read_run_store(blobs, msg.run_id)
    warnings = [*(run.get("warnings") or []), *(left_out or []), *store.warnings,
                *publish_artifacts(blobs, msg.run_id)]
    final, error = _verdict(state, cancel, run)
    body = transition(
        registry, msg.run_id, final, clock, exit_code=state.exit_code,
        failed_rank=state.failed_rank, error={"message": error} if error else None,
        metrics={k: _finite(v[-1]["value"]) for k, v in store.metrics.items() if v},
        metric_history=store.metrics, params=store.params, warnings=warnings,
        # The script's tags join the spec's, which win: they may steer registration.
        tags={**(store.tags or {}), **(run.get("tags") or {})},
        log_tail=_log_tail(blobs, msg.run_id, state.failed_rank))
    pause_point("job-complete", "recorded")  # crash tests: ended, follow-ups not yet sent
    _follow_up(envelope, body or require(registry, "run", msg.run_id).body, bus)


def _verdict(state: NodeState, cancel: bool, run: dict) -> tuple[RunStatus, str]:
    if cancel:
        return RunStatus.CANCELED, ""
    if state.reason == "timeout":
        return RunStatus.FAILED, f"the job exceeded limits.timeout of {run['timeout_s']} s"
    if state.reason == "lost":
        return RunStatus.FAILED, "the job's processes ended without reporting an exit code"
    if state.exit_code != 0:
        rank = f" (rank {state.failed_rank})" if state.failed_rank is not None else ""
        return RunStatus.FAILED, f"the command exited with code {state.exit_code}{rank}"
    return RunStatus.COMPLETED, ""


def _finite(value: float) -> float | None:
    """NaN and infinities have no JSON spelling; run history shows them as null."""
    return value if math.isfinite(value) else None


def _log_tail(blobs: BlobStore, run_id: str, rank: int | None) -> str:
    path = f"runs/{run_id}/user_logs/std_log_process_{rank or 0}.txt"
    if not blobs.exists(path):
        return ""
    lines = blobs.get(path).decode("utf-8", errors="replace").splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:])


def _follow_up(envelope: Envelope, run: dict, bus: Bus) -> None:
    """Events and commands a finished run causes, with ids fixed by the run so that
    sending them again is a duplicate the bus drops."""
    run_id = run["name"]
    if run["status"] == RunStatus.COMPLETED.value:
        bus.publish(Envelope(JobCompleted(run_id), id=f"{run_id}-ended",
                             correlation_id=run_id, causation_id=envelope.id))
        tags = run.get("tags") or {}
        if tags.get("register_model"):
            path = tags.get("model_path", "outputs/model").strip("/")
            bus.publish(Envelope(RegisterModel(
                name=tags["register_model"], source=f"runs/{run_id}/{path}", run_id=run_id,
                framework=tags.get("model_framework", ""),
                framework_version=tags.get("model_framework_version", "")),
                id=f"{run_id}-register", correlation_id=run_id, causation_id=envelope.id))
    else:
        bus.publish(Envelope(JobFailed(run_id, run.get("exit_code"),
                                       (run.get("error") or {}).get("message", "")),
                             id=f"{run_id}-ended", correlation_id=run_id,
                             causation_id=envelope.id))
    bus.publish(Envelope(ScalePool(run["compute"]), id=f"{run_id}-release",
                         correlation_id=run_id, causation_id=envelope.id))
    if run.get("parent"):  # a sweep's trial: the sweep plans its next one
        bus.publish(Envelope(AdvanceSweep(run["parent"]), id=f"{run_id}-sweep",
                             correlation_id=run["parent"], causation_id=envelope.id))
