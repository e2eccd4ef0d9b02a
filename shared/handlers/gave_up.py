"""What a dead-lettered message leaves behind: the record it was working on ends with the
reason instead of waiting forever (a data version `Registering`, a run `Preparing`),
so `mlcycle data create` and `job show` tell the user what went wrong. Called by whoever
settles a message when it gives up on it: the local queue workers, or the Azure trigger
once it has parked the message. Idempotent: only a record still in progress changes."""
from __future__ import annotations

import logging
from collections.abc import Callable

from shared.domain import messages as m
from shared.domain.errors import NotFound
from shared.domain.records import update
from shared.domain.runs import transition
from shared.domain.status import RunStatus
from shared.ports import Bus, Clock, Registry

log = logging.getLogger("mlcycle.gave_up")
# JobStarted is left out: its run may well be running; the reconciler ends it.
_RUN_MESSAGES = (m.JobSubmitted, m.LaunchJob, m.CompleteJob)


def record_gave_up(body: bytes | str, reason: str, *, registry: Registry, bus: Bus,
                   clock: Clock) -> None:
    """Mark the record the dead-lettered message concerned as failed with `reason`.
    A body that is no envelope concerns no record."""
    try:
        envelope = m.Envelope.from_json(body)
    except Exception:  # not an envelope: nothing to mark
        return
    msg = envelope.message
    message = f"gave up on {envelope.type} ({reason})"
    try:
        if isinstance(msg, m.RegisterData):
            _fail_asset(registry, "data", msg.name, msg.version, message)
        elif isinstance(msg, m.RegisterModel) and msg.version:
            _fail_asset(registry, "model", msg.name, msg.version, message)
            _tell_deployments(envelope, msg.name, msg.version, message, bus=bus)
        elif isinstance(msg, m.ModelRegistered):
            _fail_conversion(registry, msg.name, msg.version, message)
            _tell_deployments(envelope, msg.name, msg.version, message, bus=bus)
        elif isinstance(msg, m.DeployModel):
            _fail_deployment(registry, f"{msg.endpoint}/{msg.deployment}", message)
        elif isinstance(msg, _RUN_MESSAGES):
            _fail_run(envelope, msg.run_id, message, registry=registry, bus=bus, clock=clock)
        elif isinstance(msg, m.AdvanceSweep):
            _fail_sweep(envelope, msg.run_id, message, registry=registry, bus=bus, clock=clock)
    except NotFound:
        return  # the record is gone, or never was: nothing waits on it


def gave_up_hook(ports: Callable[[], dict]) -> Callable[[bytes | str, str], None]:
    """The hook every settler hands shared.domain.settlement.gave_up: record_gave_up on
    the ports `ports()` returns when it runs."""
    def hook(body: bytes | str, reason: str) -> None:
        p = ports()
        record_gave_up(body, reason, registry=p["registry"], bus=p["bus"], clock=p["clock"])
    return hook


def _tell_deployments(envelope: m.Envelope, name: str, version: str, message: str, *,
                      bus: Bus) -> None:
    """Deployments waiting for this version to be converted hear that it never will be,
    as they would from onnx-convert (the same event id: never told twice)."""
    bus.publish(m.Envelope(m.ConversionFailed(name, version, message),
                           id=f"model-{name}-{version}-conversion-failed",
                           correlation_id=name, causation_id=envelope.id))


def _fail_asset(registry: Registry, kind: str, name: str, version: str, message: str) -> None:
    def change(body: dict) -> bool:
        if body.get("state") != "Registering":
            return False
        body.update(state="Failed", error={"message": message})
        return True
    update(registry, kind, name, version, change)


def _fail_conversion(registry: Registry, name: str, version: str, message: str) -> None:
    def change(body: dict) -> bool:
        if body.get("state") != "Registered":  # converted, or already failed
            return False
        body.update(state="ConversionFailed", error={"message": message})
        return True
    update(registry, "model", name, version, change)


def _fail_deployment(registry: Registry, key: str, message: str) -> None:
    def change(body: dict) -> bool:
        if body.get("state") != "Creating":
            return False
        body.update(state="Failed", error={"message": message})
        return True
    update(registry, "deployment", key, "", change)


def _fail_sweep(envelope: m.Envelope, run_id: str, message: str, *, registry: Registry,
                bus: Bus, clock: Clock) -> None:
    """A sweep the handler cannot move on: it ends Failed with the reason, its running
    trials left to end on their own (a sweep holds no pool slot to give back)."""
    if transition(registry, run_id, RunStatus.FAILED, clock, error={"message": message}):
        bus.publish(m.Envelope(m.JobFailed(run_id, None, message), id=f"{run_id}-ended",
                               correlation_id=run_id, causation_id=envelope.id))
        log.warning("sweep %s failed: %s", run_id, message)


def _fail_run(envelope: m.Envelope, run_id: str, message: str, *, registry: Registry,
              bus: Bus, clock: Clock) -> None:
    run = registry.get("run", run_id)
    if run is None or RunStatus(run.body["status"]).terminal:
        return
    if transition(registry, run_id, RunStatus.FAILED, clock, error={"message": message}) is None:
        return
    # What job-complete sends for a failed run, under the same ids: the pool slot frees.
    bus.publish(m.Envelope(m.JobFailed(run_id, None, message), id=f"{run_id}-ended",
                           correlation_id=run_id, causation_id=envelope.id))
    bus.publish(m.Envelope(m.ScalePool(run.body["compute"]), id=f"{run_id}-release",
                           correlation_id=run_id, causation_id=envelope.id))
    log.warning("run %s failed: %s", run_id, message)
