"""compute-scale: admit queued runs to their pool in submission order, resizing it."""
from __future__ import annotations

from dataclasses import dataclass

from shared.domain.messages import Envelope, LaunchJob, PoolScaled
from shared.domain.records import update
from shared.domain.runs import transition
from shared.domain.status import RunStatus
from shared.ports import Bus, Clock, Registry

# The implicit pool of the embedded default: slots on this machine.
LOCAL_POOL = {"name": "local", "type": "local", "min_instances": 0, "max_instances": 4,
              "current_nodes": 0, "target_nodes": 0}


@dataclass(frozen=True)
class PoolDecision:
    target_nodes: int
    admit: tuple[str, ...]
    reason: str


def decide(max_nodes: int, busy: list[int], waiting: list[tuple[str, int]]) -> PoolDecision:
    """Pure policy: runs already admitted hold their nodes; waiting runs (oldest first,
    with their instance counts) are admitted while they fit, and never out of order."""
    used = sum(busy)
    admit = []
    for run_id, nodes in waiting:
        if used + nodes > max_nodes:
            break
        admit.append(run_id)
        used += nodes
    reason = f"{len(admit)} run(s) admitted, {len(waiting) - len(admit)} waiting"
    return PoolDecision(used, tuple(admit), reason)


def scale_pool(envelope: Envelope, *, registry: Registry, bus: Bus, clock: Clock) -> None:
    compute = envelope.message.compute
    pool = registry.get("compute", compute)
    pool_body = pool.body if pool else LOCAL_POOL
    runs = [r.body for r in registry.list("run") if r.body.get("compute") == compute]
    busy = [r["instance_count"] for r in runs
            if r.get("admitted") and not RunStatus(r["status"]).terminal]
    waiting = [r for r in runs if not r.get("admitted")
               and r["status"] in (RunStatus.NOT_STARTED.value, RunStatus.QUEUED.value)]
    for run in waiting:
        transition(registry, run["name"], RunStatus.QUEUED, clock)
    decision = decide(int(pool_body["max_instances"]), busy,
                      [(r["name"], r["instance_count"]) for r in waiting])
    for run_id in decision.admit:
        update(registry, "run", run_id, "", lambda body: body.update(admitted=True))
        bus.publish(Envelope(LaunchJob(run_id), id=f"{run_id}-launch", correlation_id=run_id,
                             causation_id=envelope.id))
    if pool is not None and pool.body.get("target_nodes") != decision.target_nodes:
        def resize(body: dict) -> None:
            body.update(target_nodes=decision.target_nodes,
                        current_nodes=decision.target_nodes, last_resize={
                            "time": clock.now(), "reason": decision.reason})
        update(registry, "compute", compute, "", resize)
    bus.publish(envelope.follow(PoolScaled(compute, decision.target_nodes, decision.reason)))

