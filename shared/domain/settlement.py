"""What becomes of a delivery once its handler has run: the one policy every settler
follows (the local queue workers and both buses, the Azure trigger and its parking
forwarder), so that a failure is retried, or given up on with the same reason, in every
mode.

- success: complete.
- a PermanentError: dead-letter at once, reason "<code>: <message>".
- anything else: retry after backoff_s * 2**(attempt - 1), at most max_backoff_s, reason
  "<exception type>: <message>"; on the max_deliveries-th attempt dead-letter instead,
  reason "MaxDeliveryCountExceeded: <that reason>".

A dead-lettered message has been given up on: whoever settled it then calls `gave_up`,
so that the record the message concerned ends with the same reason.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from shared.domain.errors import PermanentError

COMPLETE, RETRY, DEAD_LETTER = "complete", "retry", "dead-letter"
EXHAUSTED = "MaxDeliveryCountExceeded"
log = logging.getLogger("mlcycle.settlement")


@dataclass(frozen=True)
class Settlement:
    """The decision on one delivery: action (COMPLETE, RETRY or DEAD_LETTER), the reason
    recorded with it, and for a retry the delay before the next attempt."""

    action: str
    reason: str = ""
    delay_s: float = 0.0

    @property
    def gave_up(self) -> bool:
        return self.action == DEAD_LETTER


def failure_reason(error: BaseException) -> str:
    """The reason a failure is recorded under: a PermanentError by its code, anything
    else by its type."""
    if isinstance(error, PermanentError):
        return f"{error.code}: {error}"
    return f"{type(error).__name__}: {error}"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how late a failed message is tried again.

    Parameters:
        max_deliveries: the attempt that fails for the last time (1-based).
        backoff_s: the delay after the first failed attempt; it doubles after each.
        max_backoff_s: the longest delay.
    """

    max_deliveries: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0

    def backoff(self, attempt: int) -> float:
        """The delay after failed attempt number `attempt` (1 on the first)."""
        return min(self.backoff_s * 2 ** max(attempt - 1, 0), self.max_backoff_s)

    def settle(self, error: BaseException | None, attempt: int) -> Settlement:
        """The decision for attempt number `attempt`, which raised error (None: it
        succeeded)."""
        if error is None:
            return Settlement(COMPLETE)
        return self.after_failure(failure_reason(error), attempt,
                                  permanent=isinstance(error, PermanentError))

    def after_failure(self, reason: str, attempt: int, *, permanent: bool = False) -> Settlement:
        """The decision for a failure known only by its reason (a bus's `abandon`, a lock
        that expired)."""
        if permanent:
            return Settlement(DEAD_LETTER, reason)
        if attempt >= self.max_deliveries:
            return Settlement(DEAD_LETTER, f"{EXHAUSTED}: {reason}")
        return Settlement(RETRY, reason, self.backoff(attempt))


def gave_up(settlement: Settlement, body: bytes | str,
            hook: Callable[[bytes | str, str], None] | None, what: str = "") -> None:
    """After a dead-letter, let hook(body, reason) end the record the message concerned.
    The message keeps its reason in the dead-letter queue whatever the hook does, so a
    hook that fails (the registry is down) is logged, not raised: raising here would
    make the bus deliver a message that is already dead-lettered."""
    if not settlement.gave_up or hook is None:
        return
    try:
        hook(body, settlement.reason)
    except Exception:
        log.exception("recording the failure of %s failed", what or "a message")
