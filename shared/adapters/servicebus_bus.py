"""ServiceBusBus: the Bus port on Azure Service Bus (azure-servicebus)."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from azure.servicebus import (ServiceBusClient, ServiceBusMessage, ServiceBusReceivedMessage,
                              ServiceBusReceiveMode, ServiceBusSubQueue)
from azure.servicebus.exceptions import MessageAlreadySettled, MessageLockLostError

from shared.adapters.servicebus_parking import (PARKING_QUEUE, body_of as _body,
                                                forward_failure, parked_entry,
                                                property_of as _property)
from shared.adapters.servicebus_replay import replay_dead_letter
from shared.domain.errors import Conflict, PermanentError
from shared.domain.messages import Envelope
from shared.domain.settlement import (COMPLETE, DEAD_LETTER, RetryPolicy, Settlement,
                                      failure_reason)
from shared.ports import Received

log = logging.getLogger(__name__)

_MIN_WAIT_S = 1.0  # the SDK reads a wait of 0 as "the default 60 s"; a lock takes a round trip
_PEEK_BATCH = 100
_REASON_CHARS = 256  # Service Bus keeps dead-letter reasons in size-limited properties
_DESCRIPTION_CHARS = 4000


class ServiceBusBus:
    """Queues are Service Bus queues named as in DESIGN.md, created by the infra with
    duplicate detection on (it drops a second message with the same message_id inside
    the namespace's window) and a maximum delivery count.

    In Azure the Functions host receives with peek-lock and settles itself; this adapter
    sends for the handlers, and receives and settles for tools, replay and tests.

    Every message carries message_id = envelope id, correlation_id, the type in
    application_properties and the envelope JSON as body. Events with no queue go to the
    `events` topic, for whoever subscribes (its `journal` subscription is what `events`
    reads back); with events_topic None they are only logged.

    Service Bus redelivers an abandoned message at once. `abandon` gives the port's
    backoff instead: it sends a copy scheduled for later (message_id "<id>.retry<n>", so
    duplicate detection keeps it, the envelope id unchanged so handlers still see a
    duplicate) and completes the original; after max_deliveries it dead-letters.

    Clients are not thread-safe: each thread gets its own, made by `connect` on first use.
    Nothing connects before then.
    """

    def __init__(self, connect: Callable[[], ServiceBusClient], *, max_deliveries: int = 5,
                 backoff_s: float = 1.0, max_backoff_s: float = 60.0,
                 events_topic: str | None = "events", journal_subscription: str = "journal",
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._connect = connect
        self.max_deliveries = max_deliveries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.events_topic = events_topic
        self.journal_subscription = journal_subscription
        self._now = now
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[Any] = []  # clients, senders and receivers, closed by close()
        self._held: dict[str, tuple[Any, ServiceBusReceivedMessage]] = {}

    @classmethod
    def from_namespace(cls, fully_qualified_namespace: str, credential, **kw) -> "ServiceBusBus":
        return cls(lambda: ServiceBusClient(fully_qualified_namespace, credential), **kw)

    @classmethod
    def from_connection_string(cls, connection_string: str, **kw) -> "ServiceBusBus":
        return cls(lambda: ServiceBusClient.from_connection_string(connection_string), **kw)

    # --- sending -----------------------------------------------------------------------

    def publish(self, envelope: Envelope, *, delay_s: float = 0.0) -> None:
        """Send to the message type's queue, or an event to the events topic.

        Parameters: delay_s > 0 schedules it (scheduled_enqueue_time_utc = now + delay_s).
        """
        if envelope.queue is None and self.events_topic is None:
            log.info("event %s id=%s correlation=%s", envelope.type, envelope.id,
                     envelope.correlation_id)
            return
        self._send(envelope.queue or self.events_topic, self.to_message(envelope, delay_s=delay_s),
                   topic=envelope.queue is None)

    def to_message(self, envelope: Envelope, *, delay_s: float = 0.0, attempt: int = 0,
                   last_error: str = "") -> ServiceBusMessage:
        """The Service Bus message for an envelope; attempt > 0 makes a retry's copy."""
        properties: dict[str, Any] = {"type": envelope.type}
        if envelope.causation_id:
            properties["causation_id"] = envelope.causation_id
        if attempt:
            properties.update(attempt=attempt, last_error=last_error[:_DESCRIPTION_CHARS])
        return ServiceBusMessage(
            body=envelope.to_json(), content_type="application/json",
            message_id=f"{envelope.id}.retry{attempt}" if attempt else envelope.id,
            correlation_id=envelope.correlation_id or None, subject=envelope.type,
            application_properties=properties,
            scheduled_enqueue_time_utc=self._now() + timedelta(seconds=delay_s)
            if delay_s > 0 else None)

    def send_message(self, entity: str, message: ServiceBusMessage) -> None:
        """Send a prepared message to a queue (retry copies, parked messages)."""
        self._send(entity, message)

    def forward_failure(self, queue: str, body: bytes, settlement: Settlement,
                        **delivery) -> None:
        """Carry out the policy's decision on a failed delivery the Functions host
        received: see servicebus_parking."""
        forward_failure(self, queue, body, settlement, **delivery)

    # --- receiving and settling --------------------------------------------------------

    def receive(self, queue: str, *, max_wait_s: float = 0.0) -> Received | None:
        """Take the next message of queue under a peek-lock, or None if none arrives in
        max_wait_s (at least a second). A body that is no envelope is dead-lettered on the
        way, like the local twin does."""
        receiver = self._receiver(queue)
        while True:
            batch = receiver.receive_messages(max_message_count=1,
                                              max_wait_time=max(max_wait_s, _MIN_WAIT_S))
            if not batch:
                return None
            message = batch[0]
            try:
                envelope = Envelope.from_json(_body(message))
            except PermanentError as exc:
                reason = failure_reason(exc)
                receiver.dead_letter_message(message, reason=exc.code,
                                             error_description=reason[:_DESCRIPTION_CHARS])
                continue
            token = str(message.lock_token)
            with self._lock:
                self._held[token] = (receiver, message)
            return Received(envelope, token, _attempts(message), queue)

    def complete(self, received: Received) -> None:
        """Delete the message. Raises Conflict if its lock was lost."""
        self._settle(received, lambda receiver, message: receiver.complete_message(message))

    @property
    def policy(self) -> RetryPolicy:
        """The retry policy of every queue (see shared.domain.settlement)."""
        return RetryPolicy(self.max_deliveries, self.backoff_s, self.max_backoff_s)

    def abandon(self, received: Received, reason: str) -> None:
        """Settle a failure as the policy says: a copy scheduled after its backoff, or a
        dead letter once received.delivery_count reaches max_deliveries. Raises Conflict
        if the lock was lost."""
        self.settle(received, self.policy.after_failure(reason, received.delivery_count))

    def settle(self, received: Received, settlement: Settlement) -> None:
        """Carry out a decision of the policy: complete, retry after settlement.delay_s,
        or dead-letter with settlement.reason. Raises Conflict if the lock was lost."""
        if settlement.action == COMPLETE:
            self.complete(received)
            return
        if settlement.action == DEAD_LETTER:
            self.dead_letter(received, settlement.reason)
            return

        def retry_later(receiver, message) -> None:
            # Sent before completing: a crash in between costs a duplicate, never the message.
            self._send(received.queue, self.to_message(
                received.envelope, delay_s=settlement.delay_s,
                attempt=received.delivery_count, last_error=settlement.reason))
            receiver.complete_message(message)

        self._settle(received, retry_later)

    def dead_letter(self, received: Received, reason: str) -> None:
        """Move the message to its queue's dead-letter sub-queue with the reason: the part
        before ": " as DeadLetterReason, the whole as DeadLetterErrorDescription."""
        self._settle(received, lambda receiver, message: receiver.dead_letter_message(
            message, reason=reason.split(": ", 1)[0][:_REASON_CHARS],
            error_description=reason[:_DESCRIPTION_CHARS]))

    # --- dead letters and the journal --------------------------------------------------

    def dead_letters(self, queue: str) -> list[dict]:
        """The messages in queue's dead-letter sub-queue, oldest first, peeked (left in
        place). Service Bus does not record when a message was dead-lettered."""
        with self._client().get_queue_receiver(
                queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as receiver:
            messages = _peek_all(receiver)
        native = [{"id": m.message_id, "type": _property(m, "type"),
                   "correlation_id": m.correlation_id or "", "body": _body(m).decode(),
                   "reason": m.dead_letter_error_description or m.dead_letter_reason or "",
                   "delivery_count": _attempts(m), "dead_lettered_at": None}
                  for m in messages]
        # Parked by the Functions trigger (see servicebus_parking), with our reason.
        with self._client().get_queue_receiver(PARKING_QUEUE) as receiver:
            parked = [parked_entry(m, {k: _property(m, k) for k in ("type", "reason", "attempt")})
                      for m in _peek_all(receiver) if _property(m, "origin_queue") == queue]
        return native + parked

    def replay_dead_letter(self, queue: str, message_id: str) -> None:
        """Send a dead letter (native or parked) back to queue with a fresh delivery
        count: see servicebus_replay. Raises NotFound if there is none with that id."""
        replay_dead_letter(self._client(), self.send_message, queue, message_id)

    def events(self, correlation_id: str | None = None) -> list[Envelope]:
        """The events the journal subscription of the events topic still holds (queue-less
        events only, within the subscription's time-to-live), peeked, oldest first."""
        if self.events_topic is None:
            return []
        with self._client().get_subscription_receiver(
                self.events_topic, self.journal_subscription) as receiver:
            envelopes = [Envelope.from_json(_body(m)) for m in _peek_all(receiver)]
        return [e for e in envelopes if correlation_id in (None, e.correlation_id)]

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
            self._held.clear()
        for handle in reversed(opened):
            handle.close()
        self._local = threading.local()

    # --- internals ---------------------------------------------------------------------

    def _settle(self, received: Received, settle: Callable[[Any, Any], None]) -> None:
        with self._lock:
            held = self._held.get(received.lock_token)
        if held is None:
            raise _lock_lost(received)
        try:
            settle(*held)
        except (MessageLockLostError, MessageAlreadySettled):
            self._release(received)
            raise _lock_lost(received) from None
        # Anything else (the retry's send failed) leaves the message held: the caller may
        # settle it again, or the lock runs out and Service Bus redelivers it.
        self._release(received)

    def _release(self, received: Received) -> None:
        with self._lock:
            self._held.pop(received.lock_token, None)

    def _send(self, entity: str, message: ServiceBusMessage, *, topic: bool = False) -> None:
        senders = self._thread_state().setdefault("senders", {})
        if entity not in senders:
            client = self._client()
            sender = client.get_topic_sender(entity) if topic else client.get_queue_sender(entity)
            senders[entity] = self._track(sender)
        senders[entity].send_messages(message)

    def _receiver(self, queue: str):
        receivers = self._thread_state().setdefault("receivers", {})
        if queue not in receivers:
            receivers[queue] = self._track(self._client().get_queue_receiver(
                queue, receive_mode=ServiceBusReceiveMode.PEEK_LOCK))
        return receivers[queue]

    def _client(self) -> ServiceBusClient:
        state = self._thread_state()
        if "client" not in state:
            state["client"] = self._track(self._connect())
        return state["client"]

    def _thread_state(self) -> dict:
        if not hasattr(self._local, "state"):
            self._local.state = {}
        return self._local.state

    def _track(self, handle):
        with self._lock:
            self._opened.append(handle)
        return handle


def _attempts(message: ServiceBusReceivedMessage) -> int:
    # The AMQP header counts earlier deliveries of this message (0 on the first one); a
    # scheduled retry copy carries the attempts of the messages before it.
    earlier = int(_property(message, "attempt") or 0)
    return earlier + (message.delivery_count or 0) + 1


def _peek_all(receiver) -> list[ServiceBusReceivedMessage]:
    found: list[ServiceBusReceivedMessage] = []
    while batch := receiver.peek_messages(
            max_message_count=_PEEK_BATCH,
            sequence_number=found[-1].sequence_number + 1 if found else 0):
        found.extend(batch)
    return found


def _lock_lost(received: Received) -> Conflict:
    return Conflict(f"message lock lost: {received.envelope.id} on queue {received.queue}")
