"""Run states, named as Azure ML names them, and the order they move in."""
from enum import Enum


class RunStatus(str, Enum):
    NOT_STARTED = "NotStarted"
    QUEUED = "Queued"
    PREPARING = "Preparing"
    STARTING = "Starting"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    CANCEL_REQUESTED = "CancelRequested"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def rank(self) -> int:
        return _ORDER.index(self)


TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED})
_ORDER = list(RunStatus)


def can_move(current: RunStatus, new: RunStatus) -> bool:
    """Statuses only move forward, so a late or duplicate message cannot rewind a run."""
    if current.terminal:
        return False
    if current is RunStatus.CANCEL_REQUESTED:
        return new.terminal
    return new.rank > current.rank
