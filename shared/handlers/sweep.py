"""sweep: move a hyperparameter sweep on. Each AdvanceSweep looks at the trials the
sweep's record lists, stops those its policy (or a cancel, or its timeout) stops,
plans and starts the next ones up to max_concurrent_trials, and ends the sweep once
max_total_trials have been planned and every trial has ended.

Crash-safe by construction: a trial is planned (its name, index and hyperparameters
written to the sweep's record, with the record's etag) before its run is created, and
runs are named by sweep and index. Whatever was cut short is found and finished by the
next AdvanceSweep: a planned trial without a run is started, and no trial is planned
twice, since a plan written over a stale record is refused and made again."""
from __future__ import annotations

from datetime import datetime

from shared.domain.errors import Conflict
from shared.domain.messages import AdvanceSweep, Envelope, JobCompleted, JobFailed
from shared.domain.records import require
from shared.domain.status import RunStatus
from shared.domain.sweep_policies import trials_to_stop
from shared.domain.sweep_sampling import suggest
from shared.domain.sweeps import SweepDefinition
from shared.faults import pause_point
from shared.handlers.sweep_trials import (observe, start_trial, stop_trial, table_row,
                                          trial_name)
from shared.ports import Bus, Clock, Compute, Record, Registry

ATTEMPTS = 20  # writes of the sweep's record lost to another delivery before giving up
LIVE = (RunStatus.NOT_STARTED.value, RunStatus.RUNNING.value,
        RunStatus.CANCEL_REQUESTED.value)
NO_LIVE_METRICS = ("early_termination: this compute cannot read a running trial's "
                   "metrics, so the policy stops no trial")


def advance_sweep(envelope: Envelope, *, registry: Registry, bus: Bus, clock: Clock,
                  compute: Compute) -> None:
    """Handle an AdvanceSweep: one look at the sweep, written with its etag.

    Raises:
        NotFound: no such sweep (dead-lettered: nothing to advance).
        Conflict: its record kept changing under ATTEMPTS looks (retried by the bus).
    """
    sweep_id = envelope.message.run_id
    for _ in range(ATTEMPTS):
        record = require(registry, "run", sweep_id)
        if RunStatus(record.body["status"]).terminal:
            _announce(envelope, record.body, bus)  # a redelivery: the end is announced
            return
        body, planned = _step(record.body, registry=registry, bus=bus, clock=clock,
                              compute=compute)
        if body == record.body:
            return  # nothing moved (a timer's tick while the trials run on)
        try:
            registry.put(Record("run", sweep_id, "", body), etag=record.etag)
        except Conflict:
            continue  # another delivery moved the sweep on: look again
        if planned:
            # Crash tests: the plan is stored, its runs not yet created.
            pause_point("sweep", f"planned-{len(body['trials'])}")
        for trial in planned:
            start_trial(body, trial, registry=registry, bus=bus, clock=clock)
        if RunStatus(body["status"]).terminal:
            _announce(envelope, body, bus)
        return
    raise Conflict(f"sweep {sweep_id} kept changing; giving up after {ATTEMPTS} tries")


def tick_sweeps(*, registry: Registry, bus: Bus, clock: Clock) -> list[str]:
    """The timer's part: advance every sweep that has not ended, so that its policy
    judges running trials between their ends, and a cancel or timeout is acted on.
    Returns the sweeps it asked about."""
    now = clock.now()
    names = [r.name for status in LIVE for r in registry.list("run", where={"status": status})
             if r.body.get("type") == "sweep"]
    for name in names:
        bus.publish(Envelope(AdvanceSweep(name), id=f"{name}-tick-{now}", correlation_id=name))
    return names


def _step(sweep: dict, *, registry: Registry, bus: Bus, clock: Clock,
          compute: Compute) -> tuple[dict, list[dict]]:
    """The sweep's next record and the trials newly planned in it. Stops and the start
    of trials planned earlier happen here (both idempotent); new trials start once
    the record that plans them is stored."""
    definition = SweepDefinition.from_record(sweep["sweep"])
    now = clock.now()
    ending = _ending(sweep, definition, now)
    runs = {t["name"]: _run(registry, t["name"]) for t in sweep["trials"]}
    trials = [t for t in sweep["trials"] if runs[t["name"]] is not None or not ending]
    for trial in trials:
        run = runs[trial["name"]]
        if not ending and (run is None or run["status"] == RunStatus.NOT_STARTED.value):
            # Planned by a delivery cut short, or created without reaching compute-scale.
            runs[trial["name"]] = start_trial(sweep, trial, registry=registry, bus=bus,
                                              clock=clock)
    metric = definition.objective.primary_metric
    seen = {name: observe(run, metric, compute) for name, run in runs.items() if run}
    for name, reason in _stops(definition, ending, seen, compute).items():
        stop_trial(runs[name], reason, registry=registry, compute=compute, bus=bus,
                   clock=clock)
        runs[name] = _run(registry, name)
    planned = [] if ending else _plan(sweep["name"], definition, trials, runs)
    body = {**sweep, "trials": [table_row(t, runs.get(t["name"]), seen.get(t["name"]), metric)
                                for t in [*trials, *planned]]}
    if sweep["status"] == RunStatus.NOT_STARTED.value:
        _move(body, RunStatus.RUNNING, now)
    if (definition.early_termination and not hasattr(compute, "read_metrics")
            and NO_LIVE_METRICS not in body.get("warnings", [])):
        body["warnings"] = [*body.get("warnings", []), NO_LIVE_METRICS]
    _settle(body, definition, ending or len(body["trials"]) >= definition.limits.max_total_trials,
            runs, now)
    return body, planned


def _ending(sweep: dict, definition: SweepDefinition, now: str) -> str:
    """Why the sweep plans no more trials and stops those running, if it does."""
    if sweep["status"] == RunStatus.CANCEL_REQUESTED.value:
        return "the sweep was canceled"
    limit = definition.limits.timeout_s
    started = sweep.get("start_time")
    if limit and started and _seconds(started, now) >= limit:
        return f"the sweep reached its limits.timeout of {limit:g} s"
    return ""


def _stops(definition: SweepDefinition, ending: str, seen: dict,
           compute: Compute) -> dict[str, str]:
    if ending:
        return {name: ending for name, o in seen.items() if o.running}
    policy = definition.early_termination
    if policy is None or not hasattr(compute, "read_metrics"):
        return {}
    return trials_to_stop(policy, definition.objective, list(seen.values()))


def _plan(sweep_id: str, definition: SweepDefinition, trials: list[dict],
          runs: dict) -> list[dict]:
    """The trials to start now: up to max_concurrent_trials running, up to
    max_total_trials in all."""
    limits = definition.limits
    active = sum(1 for r in runs.values() if r and not RunStatus(r["status"]).terminal)
    history = [(t["hyperparameters"], _final(runs.get(t["name"]), definition), _running(runs, t))
               for t in trials]
    planned: list[dict] = []
    while active + len(planned) < limits.max_concurrent_trials and \
            len(trials) + len(planned) < limits.max_total_trials:
        index = len(trials) + len(planned)
        params = suggest(definition, index, history)
        if params is None:
            break  # a grid has no point left
        planned.append({"name": trial_name(sweep_id, index), "index": index,
                        "hyperparameters": params})
        history.append((params, None, True))
    return planned


def _settle(body: dict, definition: SweepDefinition, planned_all: bool, runs: dict,
            now: str) -> None:
    """Once every trial is planned and has ended: the best trial, and the sweep's end
    (Canceled if it was canceled; Completed if a trial completed; Failed otherwise)."""
    objective = definition.objective
    done = [t for t in body["trials"] if t["status"] == RunStatus.COMPLETED.value
            and isinstance(t["metric"], (int, float))]
    best = None
    for trial in done:
        if best is None or objective.better(trial["metric"], best["metric"]):
            best = trial
    body["best_child_run_id"] = best["name"] if best else None
    body["metrics"] = {objective.primary_metric: best["metric"]} if best else {}
    ended = all(RunStatus(t["status"]).terminal for t in body["trials"])
    if not (planned_all and ended):
        return
    if body["status"] == RunStatus.CANCEL_REQUESTED.value:
        _move(body, RunStatus.CANCELED, now)
    elif any(t["status"] == RunStatus.COMPLETED.value for t in body["trials"]):
        _move(body, RunStatus.COMPLETED, now)
    else:
        _move(body, RunStatus.FAILED, now)
        _failure(body, runs)


def _failure(body: dict, runs: dict) -> None:
    """Why a sweep failed: how its trials ended, and what the first that failed said
    (its error, and its log's tail as the sweep's own)."""
    counts = {s: sum(t["status"] == s for t in body["trials"]) for s in ("Failed", "Canceled")}
    message = f"no trial completed ({counts['Failed']} failed, {counts['Canceled']} canceled)"
    failed = [t for t in body["trials"] if t["status"] == RunStatus.FAILED.value]
    if failed:
        first = failed[0]
        message += f"; the first to fail, {first['name']}: {first['reason']}"
        body["log_tail"] = (runs.get(first["name"]) or {}).get("log_tail", "")
    body["error"] = {"message": message}


def _announce(envelope: Envelope, sweep: dict, bus: Bus) -> None:
    """The sweep's end, as a run's end is announced, under an id fixed by the sweep."""
    sweep_id = sweep["name"]
    if sweep["status"] == RunStatus.COMPLETED.value:
        event = JobCompleted(sweep_id)
    else:
        event = JobFailed(sweep_id, None, (sweep.get("error") or {}).get("message", ""))
    bus.publish(Envelope(event, id=f"{sweep_id}-ended", correlation_id=sweep_id,
                         causation_id=envelope.id))


def _move(body: dict, status: RunStatus, now: str) -> None:
    body["status"] = status.value
    body["status_history"] = [*body["status_history"], {"status": status.value, "time": now}]
    if status is RunStatus.RUNNING:
        body["start_time"] = now
    if status.terminal:
        body["end_time"] = now


def _run(registry: Registry, name: str) -> dict | None:
    record = registry.get("run", name)
    return record.body if record else None


def _final(run: dict | None, definition: SweepDefinition) -> float | None:
    if run is None or run["status"] != RunStatus.COMPLETED.value:
        return None
    value = (run.get("metrics") or {}).get(definition.objective.primary_metric)
    return value if isinstance(value, (int, float)) else None


def _running(runs: dict, trial: dict) -> bool:
    run = runs.get(trial["name"])
    return run is None or not RunStatus(run["status"]).terminal


def _seconds(since: str, now: str) -> float:
    return (datetime.fromisoformat(now) - datetime.fromisoformat(since)).total_seconds()
