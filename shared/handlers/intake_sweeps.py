"""Accepting a sweep job: its trial is checked and uploaded once, as a command job is
(compute, environment, code snapshot, inputs), and kept on the sweep's run record with
the sweep's definition; the sweep handler makes each trial from it."""
from __future__ import annotations

import dataclasses
import hashlib

from shared.domain.errors import Conflict, InvalidSpec
from shared.domain.messages import AdvanceSweep, Envelope
from shared.domain.status import RunStatus
from shared.handlers.intake_jobs import job_template, new_run_id
from shared.ports import BlobStore, Bus, Clock, Record, Registry
from shared.specs.types import SweepSpec


def submit_sweep(spec: SweepSpec, *, key: str, blobs: BlobStore, registry: Registry,
                 bus: Bus, clock: Clock) -> dict:
    """Create the sweep's run (NotStarted) and ask the sweep handler to start it.

    Parameters:
        key: idempotency key; the same key again returns the same sweep.
    Raises:
        InvalidSpec: the name is taken, or the trial is refused as a command job would be.
    Returns:
        The sweep's run record body.
    """
    sweep_id = spec.name or new_run_id(key)
    existing = registry.get("run", sweep_id)
    if existing is not None:
        if existing.body.get("intake_key") == key:
            return existing.body  # the same submission, delivered again
        raise InvalidSpec(f"a job named {sweep_id!r} already exists")
    template = job_template(spec.trial, blobs=blobs, registry=registry)
    definition = _seeded(spec, sweep_id)
    now = clock.now()
    body = {
        "name": sweep_id, "type": "sweep", "intake_key": key,
        "display_name": spec.display_name or sweep_id,
        "experiment_name": spec.experiment_name, "description": spec.description,
        "tags": dict(spec.tags),
        # The sweep holds no node of its own, so it names no pool that compute-scale
        # would count it against: its trials run on trial.compute.
        "compute": None, "sweep": definition.to_record(), "trial": template,
        "trials": [], "best_child_run_id": None, "metrics": {},
        "warnings": [*spec.warnings, *template["warnings"]],
        "status": RunStatus.NOT_STARTED.value,
        "status_history": [{"status": RunStatus.NOT_STARTED.value, "time": now}],
        "creation_context": {"created_at": now},
        "start_time": None, "end_time": None, "error": None,
    }
    try:
        registry.put(Record("run", sweep_id, "", body), etag="")
    except Conflict:
        body = registry.get("run", sweep_id).body
    # Sent again after a crash, it is a duplicate; never sent, the sweep timer starts it.
    bus.publish(Envelope(AdvanceSweep(sweep_id), id=f"{sweep_id}-start",
                         correlation_id=sweep_id))
    return body


def _seeded(spec: SweepSpec, sweep_id: str):
    """The definition with a seed: the spec's, or one derived from the sweep's name, so
    that its random points are fixed from the start."""
    sampling = spec.definition.sampling
    if sampling.seed is not None:
        return spec.definition
    seed = int(hashlib.sha256(sweep_id.encode()).hexdigest()[:8], 16)
    return dataclasses.replace(spec.definition,
                               sampling=dataclasses.replace(sampling, seed=seed))
