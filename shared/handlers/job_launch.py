"""job-launch: stage the run (Preparing), build its launch plan, submit it (Starting)."""
from __future__ import annotations

from shared.domain.messages import Envelope, JobLaunched, LaunchJob
from shared.domain.records import require
from shared.domain.runs import transition
from shared.domain.status import RunStatus
from shared.ports import Bus, Clock, Compute, Registry
from shared.runner.plan import build_plan


def launch_job(envelope: Envelope, *, registry: Registry, compute: Compute, bus: Bus,
               clock: Clock) -> None:
    msg: LaunchJob = envelope.message
    run = require(registry, "run", msg.run_id).body
    status = RunStatus(run["status"])
    if status.terminal or status is RunStatus.CANCEL_REQUESTED:
        return
    if status.rank > RunStatus.STARTING.rank:
        return  # already running: a duplicate
    transition(registry, msg.run_id, RunStatus.PREPARING, clock)
    plan = build_plan(msg.run_id, command=run["command"], snapshot=run["snapshot"],
                      inputs=run["inputs"], outputs=list(run["outputs"]),
                      experiment_name=run["experiment_name"], timeout_s=run["timeout_s"])
    compute.submit(plan)  # idempotent: a redelivery finds the node already started
    transition(registry, msg.run_id, RunStatus.STARTING, clock)
    bus.publish(envelope.follow(JobLaunched(msg.run_id)))
