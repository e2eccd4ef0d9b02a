"""Turning the core's Replies into HttpResponses, and the ports a route needs."""
from __future__ import annotations

from typing import Callable

import azure.functions as func

from shared.api.replies import Reply, guarded
from shared.bootstrap import current


def respond(call: Callable[[dict], Reply]) -> func.HttpResponse:
    return http_response(guarded(lambda: call(current().ports())))


def http_response(reply: Reply) -> func.HttpResponse:
    body, content_type = reply.payload()
    headers = {**reply.headers, "Content-Type": content_type}
    return func.HttpResponse(body, status_code=reply.status, headers=headers)


def request_id(req: func.HttpRequest) -> str | None:
    return req.headers.get("x-ms-client-request-id")
