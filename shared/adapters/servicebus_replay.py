"""Replaying a dead letter on Service Bus: the message is taken from the queue's
dead-letter sub-queue (or, when the Functions trigger parked it, from the `dead-letters`
parking queue; see servicebus_parking) and sent back to its queue.

Service Bus cannot receive one message by id, so the dead letters are received under
peek-lock until the wanted one turns up, and the others are given back. The copy is
sent before the dead letter is completed: a crash in between costs a duplicate, which
the handlers ignore, never the message. It goes out under a new message_id
("<id>.replay-<n>"), because duplicate detection would drop the original id, and without
the `attempt` property, so it starts with a fresh delivery count."""
from __future__ import annotations

import uuid
from typing import Any, Callable

from azure.servicebus import ServiceBusMessage, ServiceBusReceiveMode, ServiceBusSubQueue

from shared.adapters.servicebus_parking import PARKING_QUEUE, body_of, property_of as _property
from shared.domain.errors import NotFound

_BATCH = 50
_WAIT_S = 1.0  # the SDK reads 0 as "the default 60 s"


def replay_dead_letter(client: Any, send: Callable[[str, ServiceBusMessage], None],
                       queue: str, message_id: str) -> None:
    """Send queue's dead letter `message_id` back to queue. Raises NotFound if neither
    the dead-letter sub-queue nor the parking queue holds it."""
    base = message_id.split(".retry", 1)[0]

    def dead_lettered(m) -> bool:
        return m.message_id in (message_id, base) or \
            (m.message_id or "").split(".retry", 1)[0] == message_id

    def parked(m) -> bool:
        return m.message_id == f"{base}.dead" and _property(m, "origin_queue") == queue

    sources = [(dict(sub_queue=ServiceBusSubQueue.DEAD_LETTER), queue, dead_lettered),
               ({}, PARKING_QUEUE, parked)]
    for options, entity, match in sources:
        with client.get_queue_receiver(entity, receive_mode=ServiceBusReceiveMode.PEEK_LOCK,
                                       **options) as receiver:
            if _replay_one(receiver, match, send, queue, base):
                return
    raise NotFound(f"no dead letter {message_id} on queue {queue}")


def _replay_one(receiver, match, send, queue: str, base_id: str) -> bool:
    others = []
    try:
        while batch := receiver.receive_messages(max_message_count=_BATCH,
                                                 max_wait_time=_WAIT_S):
            found = next((m for m in batch if match(m)), None)
            others.extend(m for m in batch if m is not found)
            if found is not None:
                send(queue, _copy(found, base_id))
                receiver.complete_message(found)
                return True
        return False
    finally:
        for message in others:  # held until now, so the search never sees them twice
            receiver.abandon_message(message)


def _copy(message, base_id: str) -> ServiceBusMessage:
    body = body_of(message)
    message_type = _property(message, "type")
    properties = {"type": message_type} if message_type else {}
    causation = _property(message, "causation_id")
    if causation:
        properties["causation_id"] = causation
    return ServiceBusMessage(
        body=body, content_type="application/json",
        message_id=f"{base_id}.replay-{uuid.uuid4().hex[:12]}",
        correlation_id=message.correlation_id or None, subject=message_type or None,
        application_properties=properties)
