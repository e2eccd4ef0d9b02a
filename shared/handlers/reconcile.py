"""The timer's reconciler: runs whose processes ended without a word get collected, and
processes of runs that are already over get stopped."""
from __future__ import annotations

from shared.domain.messages import CompleteJob, Envelope
from shared.domain.status import RunStatus
from shared.ports import Bus, Compute, Registry

WATCHED = (RunStatus.STARTING.value, RunStatus.RUNNING.value,
           RunStatus.CANCEL_REQUESTED.value)


def reconcile_runs(*, registry: Registry, compute: Compute, bus: Bus) -> list[str]:
    """Returns the run ids it asked job-complete to collect."""
    collected = []
    # A sweep has no processes to watch (the sweep timer looks after it); its trials do.
    watched = [r for status in WATCHED for r in registry.list("run", where={"status": status})
               if r.body.get("type") != "sweep"]
    for record in watched:
        state = compute.poll(record.name)
        # "running" with a failure: one node ended badly (or vanished) while its peers
        # run on; job-complete stops them.
        troubled = state.state == "running" and (state.reason or state.exit_code)
        if state.state in ("exited", "unknown") or troubled:
            bus.publish(Envelope(CompleteJob(record.name),
                                 id=f"{record.name}-reconciled-{state.state}",
                                 correlation_id=record.name))
            collected.append(record.name)
    for run_id in compute.running():
        run = registry.get("run", run_id)
        if run is None or RunStatus(run.body["status"]).terminal:
            compute.cancel(run_id)
    return collected
