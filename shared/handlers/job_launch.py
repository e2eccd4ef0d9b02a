"""job-launch: stage the run (Preparing), build its launch plan and environment, submit
it (Starting)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from shared.domain.errors import PermanentError
from shared.domain.messages import Envelope, JobFailed, JobLaunched, LaunchJob, ScalePool
from shared.domain.records import require
from shared.domain.runs import transition
from shared.domain.status import RunStatus
from shared.ports import Bus, Clock, Compute, LaunchPlan, Registry
from shared.runner.environments import announce_warnings, from_record
from shared.runner.plan import build_plan
from shared.runner.venvs import ensure_venv, envs_root, interpreter_of
from shared.settings import Settings


def launch_job(envelope: Envelope, *, registry: Registry, compute: Compute, bus: Bus,
               clock: Clock, settings: Settings) -> None:
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
                      experiment_name=run["experiment_name"], timeout_s=run["timeout_s"],
                      distribution=run["distribution"], instance_count=run["instance_count"],
                      extra_env=run.get("environment_variables"))
    if not compute.builds_environments:
        plan = _in_environment(envelope, plan, run, envs_root(settings.data_root),
                               registry=registry, bus=bus, clock=clock)
    compute.submit(plan)  # idempotent: a redelivery finds the node already started
    transition(registry, msg.run_id, RunStatus.STARTING, clock)
    # Named by the run, not derived from this envelope: a LaunchJob sent again under a
    # new id (a producer's retry, a duplicate past the bus's detection window) must not
    # announce a second launch.
    bus.publish(Envelope(JobLaunched(msg.run_id), id=f"{msg.run_id}-launched",
                         correlation_id=envelope.correlation_id, causation_id=envelope.id))


def _in_environment(envelope: Envelope, plan: LaunchPlan, run: dict, envs: Path, *,
                    registry: Registry, bus: Bus, clock: Clock) -> LaunchPlan:
    """The plan on the run's interpreter, its warnings opening each process's log. Every
    environment has a venv (built first, once per specification), curated ones too: the
    host's own interpreter is never a job's, or a `pip install` in a command would change
    the service. A build that fails fails the run with pip's reason before the error
    dead-letters the message: the run must not stay Preparing."""
    environment = from_record(run.get("environment_spec"), run.get("warnings") or ())
    try:
        interpreter = str(interpreter_of(ensure_venv(environment, envs)))
    except PermanentError as exc:
        _fail(envelope, run, str(exc), registry=registry, bus=bus, clock=clock)
        raise
    return announce_warnings(replace(plan, interpreter=interpreter), environment.warnings)


def _fail(envelope: Envelope, run: dict, reason: str, *, registry: Registry, bus: Bus,
          clock: Clock) -> None:
    """End a run that cannot start, with what job-complete sends for a failed run (the
    same ids, so either one is a duplicate of the other) and its pool slot released."""
    run_id = run["name"]
    if transition(registry, run_id, RunStatus.FAILED, clock, error={"message": reason}) is None:
        return  # already ended (a cancel won): its ending sent these
    bus.publish(Envelope(JobFailed(run_id, None, reason), id=f"{run_id}-ended",
                         correlation_id=run_id, causation_id=envelope.id))
    bus.publish(Envelope(ScalePool(run["compute"]), id=f"{run_id}-release",
                         correlation_id=run_id, causation_id=envelope.id))
