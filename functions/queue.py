"""What every queue trigger does with its message: hand it to the core."""
from __future__ import annotations

import azure.functions as func

from shared.bootstrap import current
from shared.handlers.registry import handle

CONNECTION = "ServiceBusConnection"  # an app setting's name, never a secret


def dispatch(queue: str, msg: func.ServiceBusMessage) -> None:
    handle(queue, msg.get_body(), current().ports())
