"""A sweep's trials: each is an ordinary command run, made from the template the sweep
keeps (`trial`) through the job intake's own create_run, so compute-scale admits it like
any run; named after the sweep and its index, so that starting it twice is one run."""
from __future__ import annotations

import math

from shared.domain.messages import Envelope, ScalePool
from shared.domain.runs import transition
from shared.domain.status import RunStatus
from shared.domain.sweep_policies import Observation
from shared.domain.sweeps import fill_in
from shared.handlers.intake_jobs import create_run, new_run
from shared.ports import Bus, Clock, Compute, Registry

# A trial whose processes have ended is collected as it ended: a stop now would only
# relabel a finished trial.
_STOPPABLE = (RunStatus.NOT_STARTED, RunStatus.QUEUED, RunStatus.PREPARING,
              RunStatus.STARTING, RunStatus.RUNNING)


def trial_name(sweep_id: str, index: int) -> str:
    return f"{sweep_id}_{index}"


def start_trial(sweep: dict, trial: dict, *, registry: Registry, bus: Bus,
                clock: Clock) -> dict:
    """Create the run of a planned trial ({"name", "index", "hyperparameters"}) and send
    it to compute-scale; a trial already created is sent again (a duplicate unless the
    first send was lost). Returns its run body."""
    template = sweep["trial"]
    params = trial["hyperparameters"]
    body = new_run({**template, "command": fill_in(template["command"], params,
                                                    template.get("inputs") or {})},
                   run_id=trial["name"], key=f"{sweep['name']}/{trial['index']}",
                   display_name=trial["name"], clock=clock, parent=sweep["name"],
                   sweep_index=trial["index"], hyperparameters=params)
    return create_run(body, registry=registry, bus=bus)


def stop_trial(run: dict, reason: str, *, registry: Registry, compute: Compute, bus: Bus,
               clock: Clock) -> None:
    """Cancel a trial with `reason` kept on its run (`canceled_reason`). One not yet
    launched ends Canceled at once and gives its pool slot back; a launched one is
    asked to stop and ends Canceled when job-complete collects it."""
    status = RunStatus(run["status"])
    if status not in _STOPPABLE:
        return
    name = run["name"]
    if status in (RunStatus.NOT_STARTED, RunStatus.QUEUED):
        if transition(registry, name, RunStatus.CANCELED, clock, canceled_reason=reason):
            bus.publish(Envelope(ScalePool(run["compute"]), id=f"{name}-release",
                                 correlation_id=name))
        return
    if transition(registry, name, RunStatus.CANCEL_REQUESTED, clock, canceled_reason=reason):
        compute.cancel(name)


def observe(run: dict, metric: str, compute: Compute) -> Observation:
    """The trial's primary metric so far: from run history once it has ended, from its
    running processes' store before (where the compute can read it)."""
    status = RunStatus(run["status"])
    if status.terminal:
        points = (run.get("metric_history") or {}).get(metric) or []
    elif hasattr(compute, "read_metrics") and status.rank >= RunStatus.STARTING.rank:
        points = compute.read_metrics(run["name"]).get(metric) or []
    else:
        points = []
    values = tuple(p["value"] for p in points
                   if isinstance(p.get("value"), (int, float)) and math.isfinite(p["value"]))
    return Observation(run["name"], values, not status.terminal)


def table_row(trial: dict, run: dict | None, seen: Observation | None, metric: str) -> dict:
    """The trial as the sweep's record lists it: its hyperparameters, status, primary
    metric (run history's value once it has ended, the latest logged before) and why
    it ended, if not Completed."""
    row = {"name": trial["name"], "index": trial["index"],
           "hyperparameters": trial["hyperparameters"], "status": "NotStarted",
           "metric": None, "reason": ""}
    if run is None:
        return row
    if RunStatus(run["status"]).terminal:
        value = (run.get("metrics") or {}).get(metric)
    else:
        value = seen.values[-1] if seen and seen.values else None
    error = (run.get("error") or {}).get("message", "")
    row.update(status=run["status"], metric=value,
               reason=run.get("canceled_reason") or error)
    return row
