"""Delivering queue messages the way the local queue workers do (receive under a lock,
dispatch through the handler table, complete), and delivering them again the ways
at-least-once delivery really repeats them."""
from __future__ import annotations

from typing import Callable

from shared.bootstrap import Container
from shared.domain.messages import Envelope
from shared.handlers.registry import handle
from shared.ports import Received
from tests.reliability.state import ExpiringLocks, differences, snapshot


def take(container: Container, queue: str, expected: str) -> Received:
    """The next message on queue, locked; it must be of the expected type."""
    received = container.bus.receive(queue)
    assert received is not None, f"nothing on {queue}, expected a {expected}"
    assert received.envelope.type == expected, received.envelope.type
    return received


class Courier:
    """Takes messages off a world's queues and hands them to their handlers, keeping
    every envelope it delivered so that a test can deliver them all again late."""

    def __init__(self, container: Container, locks: ExpiringLocks) -> None:
        self.container, self.locks = container, locks
        self.delivered: list[Envelope] = []

    def take(self, queue: str, expected: str) -> Received:
        return take(self.container, queue, expected)

    def once(self, queue: str, expected: str,
             settle: Callable[[], None] = lambda: None) -> Envelope:
        received = self.take(queue, expected)
        self._handle(received.envelope)
        settle()
        self.container.bus.complete(received)
        return received.envelope

    def twice(self, queue: str, expected: str,
              settle: Callable[[], None] = lambda: None) -> tuple[Envelope, list[str]]:
        """Deliver the next message; let its lock expire before it is completed, as when
        a worker dies after the handler ran; take the redelivery and handle it too.

        Returns the envelope and the differences between the state after the first
        delivery and after the second."""
        first = self.take(queue, expected)
        self._handle(first.envelope)
        settle()
        skip = frozenset({first.envelope.id})
        before = snapshot(self.container, skip_ids=skip)
        self.locks.expire(self.container.bus.lock_timeout_s)
        again = self.container.bus.receive(queue)
        assert again is not None and again.envelope.id == first.envelope.id, "no redelivery"
        assert again.delivery_count == 2
        self._handle(again.envelope)
        settle()
        self.container.bus.complete(again)
        return first.envelope, differences(before, snapshot(self.container, skip_ids=skip))

    def resent(self, envelope: Envelope, settle: Callable[[], None] = lambda: None) -> list[str]:
        """Deliver the same message again under a new envelope id, as a producer that
        re-sends after losing its own send's acknowledgement would."""
        before = snapshot(self.container)
        handle(envelope.queue, Envelope(envelope.message, correlation_id=envelope.correlation_id,
                                        causation_id=envelope.causation_id).to_json(),
               self.container.ports())
        settle()
        return differences(before, snapshot(self.container))

    def replay_all_late(self) -> list[str]:
        """Every message delivered so far, delivered once more, newest first: late and
        out of order, long after the state moved on."""
        before = snapshot(self.container)
        for envelope in reversed(self.delivered):
            handle(envelope.queue, envelope.to_json(), self.container.ports())
        return differences(before, snapshot(self.container))

    def _handle(self, envelope: Envelope) -> None:
        handle(envelope.queue, envelope.to_json(), self.container.ports())
        if envelope.id not in {e.id for e in self.delivered}:
            self.delivered.append(envelope)
