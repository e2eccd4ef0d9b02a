"""How a run stands, from how each of its nodes stands: what an executor's poll answers
for a run of several nodes (see NodeState)."""
from __future__ import annotations

from collections.abc import Sequence

from shared.ports import NodeState

# Which ending explains a run best: a process that failed on its own, then a timeout, a
# lost node, any other bad ending, and last a cancel (often the peers of a failure).
_ORDER = {"timeout": 1, "lost": 2, "canceled": 4}


def exited(body: dict) -> NodeState:
    """The state of a node from its exit.json."""
    return NodeState("exited", exit_code=body.get("exit_code"),
                     failed_rank=body.get("failed_rank"), reason=body.get("reason", ""),
                     started_at=body.get("started_at", ""), ended_at=body.get("ended_at", ""))


def combine(nodes: Sequence[tuple[NodeState, str]]) -> NodeState:
    """The run's state from its nodes' states.

    Parameters: nodes: (state, failed_at) of each node; failed_at is when a node saw its
        process fail ("" if it did not), which orders failures on different nodes.
    Returns:
        "unknown" if there are no nodes or one is unknown.
        "running" while one runs; if another has already ended badly, with that node's
        exit code, failed rank and reason, telling the caller to stop the rest.
        "exited" once all have, with the code, rank and reason of the worst ending: the
        earliest process failure, then a timeout, a lost node, and last a cancel, so
        that peers stopped because of a failure do not hide it.
    """
    states = [state for state, _ in nodes]
    if not states or any(s.state == "unknown" for s in states):
        return NodeState("unknown")
    started = min((s.started_at for s in states if s.started_at), default="")
    worst = _worst([(s, at) for s, at in nodes if s.state == "exited"])
    if any(s.state == "running" for s in states):
        if worst is None:
            return NodeState("running", started_at=started)
        return NodeState("running", exit_code=worst.exit_code, failed_rank=worst.failed_rank,
                         reason=worst.reason, started_at=started)
    ended = worst or states[0]
    return NodeState("exited", exit_code=ended.exit_code, failed_rank=ended.failed_rank,
                     reason=ended.reason, started_at=started,
                     ended_at=max(s.ended_at for s in states))


def _worst(ended: list[tuple[NodeState, str]]) -> NodeState | None:
    def order(item: tuple[NodeState, str]) -> tuple[int, str]:
        state, failed_at = item
        kind = 0 if state.failed_rank is not None else _ORDER.get(state.reason, 3)
        return kind, failed_at or state.ended_at

    bad = [item for item in ended if item[0].exit_code != 0 or item[0].reason]
    return min(bad, key=order)[0] if bad else None
