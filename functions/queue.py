"""What every queue trigger does with its message: hand it to the core, and on Azure
settle a failure itself (see shared/adapters/servicebus_parking for why)."""
from __future__ import annotations

import logging

import azure.functions as func

from shared.bootstrap import current
from shared.domain.errors import PermanentError
from shared.handlers.gave_up import record_gave_up
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
        permanent = isinstance(exc, PermanentError)
        reason = f"{exc.code}: {exc}" if permanent else f"{type(exc).__name__}: {exc}"
        outcome = container.bus.forward_failure(
            queue, body, message_id=msg.message_id or "", correlation_id=msg.correlation_id or "",
            message_type=_property(msg, "type"), attempt=attempt_of(msg), reason=reason,
            permanent=permanent)
        log.warning("%s: message %s failed (%s), %s", queue, msg.message_id, reason, outcome)
        if outcome == "parked":  # given up: the record it concerned ends with the reason
            p = container.ports()
            try:
                record_gave_up(body, reason, registry=p["registry"], bus=p["bus"],
                               clock=p["clock"])
            except Exception:  # parked with its reason either way; the registry may be down
                log.exception("%s: recording the failure of %s failed", queue, msg.message_id)


def attempt_of(msg: func.ServiceBusMessage) -> int:
    """This delivery's attempt number, 1 on the first: a scheduled retry copy carries the
    attempts before it, and the host's DeliveryCount (1-based) counts redeliveries of
    this copy after a crash or a lost lock."""
    earlier = int(_property(msg, "attempt") or 0)
    return earlier + max(int(msg.delivery_count or 1), 1)


def _property(msg: func.ServiceBusMessage, name: str) -> str:
    value = (msg.application_properties or {}).get(name)
    return value.decode() if isinstance(value, bytes) else ("" if value is None else str(value))
