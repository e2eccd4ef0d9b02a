"""Run status transitions: forward only, each recorded with its time."""
from __future__ import annotations

from shared.domain.records import update
from shared.domain.status import RunStatus, can_move
from shared.ports import Clock, Registry


def transition(registry: Registry, run_id: str, status: RunStatus, clock: Clock,
               **fields) -> dict | None:
    """Move run_id to status and set fields; None if the run is already past it
    (a duplicate or late message), so callers can stop without side effects."""
    moved = False

    def change(body: dict) -> bool:
        nonlocal moved
        if not can_move(RunStatus(body["status"]), status):
            return False
        now = clock.now()
        # update() calls this again after a conflict: `fields` must come out unchanged.
        given = dict(fields)
        body["status"] = status.value
        body["status_history"] = [*body.get("status_history", []),
                                  {"status": status.value, "time": now}]
        if status is RunStatus.RUNNING and not body.get("start_time"):
            body["start_time"] = given.pop("start_time", None) or now
        if status.terminal:
            body["end_time"] = now
        body.update(given)
        moved = True
        return True

    body = update(registry, "run", run_id, "", change)
    return body if moved else None


def status_of(body: dict) -> RunStatus:
    return RunStatus(body["status"])
