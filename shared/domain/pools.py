"""Compute pools: the scaling policy, a pure function of a pool and its demand, and the
shape of a pool's record.

The same decisions drive both executors: locally a node is a slot on this machine and
a resize takes effect at once; the Batch executor resizes a real pool to `target_nodes`
and submits the admitted runs as tasks.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

LOCAL_POOL = "local"
LOCAL_POOL_MAX = 4  # the implicit pool of the embedded default: four slots on this machine
HISTORY_LENGTH = 20  # resizes kept on the record; older ones drop off
NODE_SAMPLES = 100  # node counts kept for the studio's chart (~8 KB on the record)


@dataclass(frozen=True)
class PoolState:
    """What the policy needs to know of a pool, named as its record names it."""

    min_instances: int
    max_instances: int
    current_nodes: int = 0
    idle_time_before_scale_down: float = 120
    idle_since: str | None = None  # since when nodes above the floor have been idle

    @classmethod
    def of(cls, body: dict) -> "PoolState":
        return cls(int(body.get("min_instances") or 0), int(body["max_instances"]),
                   int(body.get("current_nodes") or 0),
                   float(body.get("idle_time_before_scale_down") or 0),
                   body.get("idle_since"))


@dataclass(frozen=True)
class PoolDecision:
    """What to do now: the size to hold, which waiting runs start, which never can."""

    target_nodes: int
    admit: tuple[str, ...]  # in submission order
    busy_nodes: int  # held by unfinished runs once the admitted ones start
    idle_nodes: int
    idle_since: str | None
    reason: str
    refuse: tuple[str, ...] = ()  # runs larger than the pool will ever be


def decide(pool: PoolState, busy: Sequence[int], waiting: Sequence[tuple[str, int]],
           now: str) -> PoolDecision:
    """Decide a pool's size and admissions.

    Parameters:
        pool: its limits, current size and scale-down clock.
        busy: the node counts of admitted runs that have not finished; they keep them.
        waiting: (run id, node count) of runs not yet admitted, oldest first.
        now: ISO-8601 time; the only clock the policy reads.

    Returns:
        A PoolDecision. Waiting runs are admitted strictly in submission order while
        they fit under max_instances: one that does not fit stops the ones behind it
        (no overtaking), except a run larger than max_instances, which can never fit
        and is refused instead. The pool grows at once to the nodes needed; nodes
        left idle are released only after idle_time_before_scale_down seconds of
        idleness. The target never goes below min_instances nor above max_instances.
    """
    admit, refuse, used = _admit(pool.max_instances, sum(busy), waiting)
    floor = min(max(used, pool.min_instances), pool.max_instances)
    ceiling = min(pool.current_nodes, pool.max_instances)  # above a lowered max: shed at once
    since = None
    target = max(floor, ceiling)
    if ceiling > floor:
        # One clock for all the nodes above the floor, started when the first of them
        # went idle: a node idle for less time goes with them (locally nodes are slots,
        # alike; on Batch the pool shrinks by a count, not by chosen nodes).
        since = pool.idle_since or now
        if _seconds(since, now) >= pool.idle_time_before_scale_down:
            target, since = floor, None
    idle = max(0, target - used)
    reason = _reason(pool, target, used, idle, since, len(waiting) - len(admit) - len(refuse))
    return PoolDecision(target, tuple(admit), used, idle, since, reason, tuple(refuse))


def too_large(compute: str, nodes: int, most: int) -> str:
    """Why a run of `nodes` nodes can never start on a pool of at most `most`."""
    return (f"resources.instance_count {nodes} exceeds compute {compute!r} "
            f"max_instances {most}")


def _admit(most: int, used: int,
           waiting: Sequence[tuple[str, int]]) -> tuple[list[str], list[str], int]:
    admit, refuse, blocked = [], [], False
    for run_id, nodes in waiting:
        if nodes > most:
            refuse.append(run_id)
        elif not blocked and used + nodes <= most:
            admit.append(run_id)
            used += nodes
        else:
            blocked = True  # the runs behind it wait too: submission order is kept
    return admit, refuse, used


def _reason(pool: PoolState, target: int, used: int, idle: int, since: str | None,
            queued: int) -> str:
    current = pool.current_nodes
    demand = f"{used} node(s) in use, {queued} run(s) waiting"
    if target > current:
        why = (f"min_instances is {pool.min_instances}"
               if target == pool.min_instances and used < target else demand)
        return f"scale up {current} -> {target}: {why}"
    if target < current:
        if current > pool.max_instances and target == pool.max_instances:
            return f"scale down {current} -> {target}: max_instances is {pool.max_instances}"
        return (f"scale down {current} -> {target}: idle for "
                f"{pool.idle_time_before_scale_down:g} s; {demand}")
    if since:
        return (f"hold {current}: {idle} node(s) idle since {since}; scale down after "
                f"{pool.idle_time_before_scale_down:g} s idle")
    return f"hold {current}: {demand}"


def _seconds(since: str, now: str) -> float:
    return (datetime.fromisoformat(now) - datetime.fromisoformat(since)).total_seconds()


_SETTINGS = {"type": "amlcompute", "size": None, "min_instances": 0,
             "max_instances": LOCAL_POOL_MAX, "idle_time_before_scale_down": 120,
             "tier": "dedicated"}


def new_pool(name: str, now: str, **settings) -> dict:
    """The record of a pool just created, from its settings (the amlCompute fields):
    min_instances nodes, none of them busy.

    Locally a low_priority pool behaves as a dedicated one (this machine does not
    preempt); the tier is recorded for the Batch executor, which maps it to
    low-priority nodes."""
    body = {"name": name, **_SETTINGS, **settings, "current_nodes": 0, "target_nodes": 0,
            "idle_nodes": 0, "idle_since": None, "allocations": {}, "resize_history": [],
            "created_at": now}
    least = body["min_instances"]
    if least:
        resize(body, least, f"scale up 0 -> {least}: min_instances is {least}", now)
        body["idle_nodes"] = least
    sample_nodes(body, now)
    return body


def sample_nodes(body: dict, now: str) -> None:
    """Note the pool's current, target and idle nodes when they differ from the last
    note: the studio charts them over time. The same counts seen again (a redelivered
    ScalePool, a tick that changes nothing) add no note."""
    counts = {k: int(body.get(k) or 0) for k in ("current_nodes", "target_nodes",
                                                  "idle_nodes")}
    notes = body.get("node_history") or []
    if notes and {k: notes[-1].get(k) for k in counts} == counts:
        return
    body["node_history"] = [*notes, {"time": now, **counts}][-NODE_SAMPLES:]


def resize(body: dict, nodes: int, reason: str, now: str) -> None:
    """Record a resize on a pool's body. Locally it takes effect at once, so current
    and target move together."""
    if nodes != body.get("current_nodes"):
        entry = {"time": now, "from": body.get("current_nodes", 0), "to": nodes,
                 "reason": reason}
        body["resize_history"] = [*body.get("resize_history", []), entry][-HISTORY_LENGTH:]
    body.update(current_nodes=nodes, target_nodes=nodes)
