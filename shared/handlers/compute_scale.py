"""compute-scale: admit waiting runs to their pool in submission order and resize it,
recording each resize with its reason; and the timer's tick that lets an idle pool
shrink when no run ends."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from shared.domain.errors import Conflict
from shared.domain.messages import Envelope, JobFailed, LaunchJob, PoolScaled, ScalePool
from shared.domain.pools import (LOCAL_POOL, PoolDecision, PoolState, decide, new_pool,
                                 resize, sample_nodes, too_large)
from shared.domain.records import update
from shared.domain.runs import transition
from shared.domain.status import RunStatus
from shared.ports import Bus, Clock, Compute, Record, Registry

WAITING = (RunStatus.NOT_STARTED.value, RunStatus.QUEUED.value)


def scale_pool(envelope: Envelope, *, registry: Registry, bus: Bus, clock: Clock,
               compute: Compute | None = None) -> None:
    """Decide the pool named by a JobSubmitted or ScalePool message and carry it out.

    The pool's record is the ledger of the runs holding its nodes (`allocations`), and
    it is written with its etag: two deliveries deciding one pool at once cannot give
    the same free node away twice, since the loser decides again on what the winner
    wrote. Launches are sent for every admitted run not yet launched, under ids fixed
    by the run, so a redelivery repeats them as duplicates the bus drops. A compute
    with pools of its own (ports.PoolCompute) is resized to the decision before the
    launches go out, so a new pool exists when their jobs are created."""
    name = envelope.message.compute
    if name == LOCAL_POOL and registry.get("compute", name) is None:
        _create_local_pool(registry, clock)
    now = clock.now()
    seen: dict = {}

    def apply(body: dict) -> bool:
        runs = {r.name: r.body for r in registry.list("run", where={"compute": name})}
        held = {run_id: nodes for run_id, nodes in body.get("allocations", {}).items()
                if run_id in runs and not RunStatus(runs[run_id]["status"]).terminal}
        waiting = sorted((r for r in runs.values()
                          if r["name"] not in held and r["status"] in WAITING), key=_submitted)
        decision = decide(PoolState.of(body), list(held.values()),
                          [(r["name"], int(r["instance_count"])) for r in waiting], now)
        held.update({run_id: int(runs[run_id]["instance_count"]) for run_id in decision.admit})
        seen.update(decision=decision, runs=runs, held=held, most=body["max_instances"])
        before = dict(body)
        resize(body, decision.target_nodes, decision.reason, now)
        body.update(allocations=held, idle_nodes=decision.idle_nodes,
                    idle_since=decision.idle_since)
        sample_nodes(body, now)
        return body != before

    body = update(registry, "compute", name, "", apply)
    if hasattr(compute, "resize"):
        compute.resize(body)
    decision: PoolDecision = seen["decision"]
    for run in seen["runs"].values():
        if run["status"] in WAITING:
            transition(registry, run["name"], RunStatus.QUEUED, clock)
    for run_id in decision.refuse:
        _refuse(envelope, seen["runs"][run_id], seen["most"], registry, bus, clock)
    for run_id in seen["held"]:
        if seen["runs"][run_id]["status"] in WAITING:
            bus.publish(Envelope(LaunchJob(run_id), id=f"{run_id}-launch",
                                 correlation_id=run_id, causation_id=envelope.id))
    bus.publish(Envelope(PoolScaled(name, decision.target_nodes, decision.reason),
                         id=_scaled_id(name, body), correlation_id=envelope.correlation_id,
                         causation_id=envelope.id))


def tick_pools(*, registry: Registry, bus: Bus, clock: Clock) -> list[str]:
    """The timer's part: ask compute-scale to decide again every pool that is not at
    rest, so idle nodes are released after their idle time even when no run ends. A
    pool at rest (no node held, no idle clock running) has nothing a tick could change.

    Returns the names of the pools it asked about."""
    now = clock.now()
    names = [r.name for r in registry.list("compute")
             if r.body.get("allocations") or r.body.get("idle_since")]
    for name in names:
        bus.publish(Envelope(ScalePool(name), id=f"{name}-tick-{now}", correlation_id=name))
    return names


def _scaled_id(name: str, pool: dict) -> str:
    """PoolScaled is named by the pool state it announces, not by the message that
    caused it: a ScalePool sent again (a producer's retry, a tick that changes nothing)
    finds the same state and sends a duplicate that the bus drops."""
    state = [pool.get("target_nodes"), pool.get("allocations"), pool.get("idle_since"),
             pool.get("resize_history", [])[-1:]]
    return f"{name}-scaled-" + hashlib.sha256(json.dumps(state, sort_keys=True).encode()
                                              ).hexdigest()[:24]


def _create_local_pool(registry: Registry, clock: Clock) -> None:
    """The implicit pool of the embedded default gets a record on first use, so it keeps
    its ledger like any other and `compute show local` tells its nodes."""
    try:
        registry.put(Record("compute", LOCAL_POOL, "",
                            new_pool(LOCAL_POOL, clock.now(), type="local")), etag="")
    except Conflict:
        pass  # another delivery created it first


def _refuse(envelope: Envelope, run: dict, most: int, registry: Registry, bus: Bus,
            clock: Clock) -> None:
    """A run larger than its pool can ever be (max_instances was lowered after it was
    accepted) would block every run behind it: it fails with the reason instead."""
    message = too_large(run["compute"], run["instance_count"], most)
    transition(registry, run["name"], RunStatus.FAILED, clock, error={"message": message})
    bus.publish(Envelope(JobFailed(run["name"], None, message), id=f"{run['name']}-ended",
                         correlation_id=run["name"], causation_id=envelope.id))


def _submitted(run: dict) -> datetime:
    return datetime.fromisoformat(run["creation_context"]["created_at"])
