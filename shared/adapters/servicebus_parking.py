"""Settling a failed delivery on Azure Functions, where Python functions cannot settle
Service Bus messages by hand (azure-functions-python-worker#1291): the host completes a
message when the function returns and abandons it — for an immediate redelivery, with
no backoff — when it raises, and dead-letters it with its own reason after the queue's
maximum delivery count.

So the trigger settles by forwarding before it returns, as the one policy of
shared.domain.settlement decides: a transient failure sends a copy scheduled after the
backoff (message_id "<id>.retry<n>"), and a permanent failure, or one out of attempts,
parks a copy in the `dead-letters` queue (message_id "<id>.dead", the origin queue and
our reason in its properties), which nothing consumes. Duplicate
detection makes a forwarded copy of a redelivered message a no-op. If forwarding itself
fails the function raises, and the host's own retries and dead-lettering take over:
the message is never lost.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from azure.servicebus import ServiceBusMessage

from shared.domain.settlement import RETRY, Settlement

if TYPE_CHECKING:
    from shared.adapters.servicebus_bus import ServiceBusBus

PARKING_QUEUE = "dead-letters"
_DESCRIPTION_CHARS = 4000


def forward_failure(bus: "ServiceBusBus", queue: str, body: bytes, settlement: Settlement,
                    *, message_id: str, correlation_id: str, message_type: str,
                    attempt: int) -> None:
    """Carry out the policy's decision on a delivery that failed (shared.domain.
    settlement): RETRY sends the copy scheduled after settlement.delay_s, DEAD_LETTER
    parks it with settlement.reason. `attempt` counts this delivery (1 on the first)."""
    from shared.domain.messages import Envelope

    if settlement.action == RETRY:
        envelope = Envelope.from_json(body)  # it parsed once already, or this is permanent
        bus.send_message(queue, bus.to_message(envelope, delay_s=settlement.delay_s,
                                               attempt=attempt, last_error=settlement.reason))
        return
    base_id = message_id.split(".retry", 1)[0]  # every attempt parks under one id
    bus.send_message(PARKING_QUEUE, ServiceBusMessage(
        body=body, content_type="application/json", message_id=f"{base_id}.dead",
        correlation_id=correlation_id or None, subject=message_type or None,
        application_properties={"type": message_type, "origin_queue": queue,
                                "reason": settlement.reason[:_DESCRIPTION_CHARS],
                                "attempt": attempt}))


def parked_entry(message: Any, properties: dict) -> dict:
    """A parked message in the shape `Bus.dead_letters` lists."""
    return {"id": (message.message_id or "").removesuffix(".dead"),
            "type": properties.get("type"), "correlation_id": message.correlation_id or "",
            "body": body_of(message).decode(),
            "reason": properties.get("reason") or "",
            "delivery_count": int(properties.get("attempt") or 0),
            "dead_lettered_at": message.enqueued_time_utc.isoformat()
            if message.enqueued_time_utc else None}


def property_of(message: Any, name: str) -> Any:
    """An application property of a received message. They come back from the wire with
    bytes keys and string values."""
    properties = message.application_properties or {}
    value = properties.get(name.encode(), properties.get(name))
    return value.decode() if isinstance(value, bytes) else value


def body_of(message: Any) -> bytes:
    """A received message's body as bytes: a data body arrives as a sequence of sections."""
    body = message.body
    if isinstance(body, (bytes, str)):
        return body.encode() if isinstance(body, str) else body
    return b"".join(body)
