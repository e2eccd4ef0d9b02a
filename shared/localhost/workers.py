"""Queue workers: the local stand-in for the Functions host's Service Bus listener.
Settlement lives here, not in the handlers, and follows shared.domain.settlement:
success completes, a PermanentError dead-letters at once, anything else is retried with
backoff until the last attempt."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import azure.functions as func

from shared.domain.settlement import gave_up
from shared.localhost.triggers import Trigger
from shared.ports import Bus, Received

log = logging.getLogger("mlcycle.host")


class QueueWorkers:
    def __init__(self, bus: Bus, triggers: list[Trigger], *, threads_per_queue: int = 1,
                 gave_up: Callable[[bytes, str], None] | None = None):
        """gave_up(body, reason) runs after a message is dead-lettered, so that the
        record it concerned does not wait on it forever (shared.handlers.gave_up)."""
        self.bus = bus
        self.gave_up = gave_up
        self.triggers = [t for t in triggers if t.kind == "serviceBusTrigger"]
        self.threads_per_queue = threads_per_queue
        self.errors: list[tuple[str, BaseException]] = []
        self._stop = threading.Event()
        self._busy = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for trigger in self.triggers:
            for n in range(self.threads_per_queue):
                thread = threading.Thread(target=self._loop, args=(trigger,), daemon=True,
                                          name=f"queue-{trigger.queue}-{n}")
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def join(self, timeout: float = 300.0) -> None:
        """Wait until every queue has drained and no handler is running (retries and
        scheduled messages included)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle = self._busy == 0
            if idle and self.bus.pending() == 0:
                with self._lock:
                    if self._busy == 0:
                        return
            time.sleep(0.05)
        raise TimeoutError(f"queues did not drain within {timeout} s")

    def _loop(self, trigger: Trigger) -> None:
        while not self._stop.is_set():
            try:
                received = self.bus.receive(trigger.queue, max_wait_s=0.25)
            except Exception:  # the bus file is busy or gone: back off, keep the worker
                log.exception("receiving from %s failed", trigger.queue)
                time.sleep(1)
                continue
            if received is None:
                continue
            with self._lock:
                self._busy += 1
            try:
                self.deliver(trigger, received)
            except Exception:  # settling failed (lock lost): the bus redelivers it
                log.exception("settling a message from %s failed", trigger.queue)
            finally:
                with self._lock:
                    self._busy -= 1

    def deliver(self, trigger: Trigger, received: Received) -> None:
        """Run the trigger's function on one received message and settle the delivery as
        shared.domain.settlement decides; after a dead-letter, the gave-up hook runs.
        Raises Conflict when the message's lock was lost before it could be settled."""
        message = func.ServiceBusMessage(body=received.envelope.to_json().encode(),
                                         content_type="application/json",
                                         correlation_id=received.envelope.correlation_id)
        try:
            trigger.function(**{trigger.arg_name: message})
        except Exception as exc:
            settlement = self.bus.policy.settle(exc, received.delivery_count)
            log.warning("%s: %s failed (delivery %d), %s: %s", trigger.queue,
                        received.envelope.type, received.delivery_count, settlement.action,
                        settlement.reason)
            self.errors.append((trigger.queue, exc))
            self.bus.settle(received, settlement)
            gave_up(settlement, received.envelope.to_json().encode(), self.gave_up,
                    what=received.envelope.id)
            return
        self.bus.complete(received)
