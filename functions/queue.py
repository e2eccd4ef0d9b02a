"""What every queue trigger does with its message: hand it to the core, and on Azure
settle a failure itself (see shared/adapters/servicebus_parking for why)."""
from __future__ import annotations

import logging

import azure.functions as func

from shared.bootstrap import current
from shared.domain.settlement import gave_up
from shared.handlers.gave_up import gave_up_hook
from shared.handlers.registry import handle

CONNECTION = "ServiceBusConnection"  # an app setting's name, never a secret
log = logging.getLogger("mlcycle.queue")


def dispatch(queue: str, msg: func.ServiceBusMessage) -> None:
    container = current()
    body = msg.get_body()
    try:
        handle(queue, body, container.ports())
    except Exception as exc:
        if not container.forwards_failures:
            raise  # the local queue workers settle: retry with backoff or dead-letter
        attempt = attempt_of(msg)
        settlement = container.bus.policy.settle(exc, attempt)
        container.bus.forward_failure(
            queue, body, settlement, message_id=msg.message_id or "",
            correlation_id=msg.correlation_id or "", message_type=_property(msg, "type"),
            attempt=attempt)
        log.warning("%s: message %s failed, %s: %s", queue, msg.message_id,
                    settlement.action, settlement.reason)
        gave_up(settlement, body, gave_up_hook(container.ports), what=msg.message_id or queue)


def attempt_of(msg: func.ServiceBusMessage) -> int:
    """This delivery's attempt number, 1 on the first: a scheduled retry copy carries the
    attempts before it, and the host's DeliveryCount (1-based) counts redeliveries of
    this copy after a crash or a lost lock."""
    earlier = int(_property(msg, "attempt") or 0)
    return earlier + max(int(msg.delivery_count or 1), 1)


def _property(msg: func.ServiceBusMessage, name: str) -> str:
    value = (msg.application_properties or {}).get(name)
    return value.decode() if isinstance(value, bytes) else ("" if value is None else str(value))
