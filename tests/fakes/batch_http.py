"""The HTTP side of the Batch fake: requests recorded as calls, errors in Batch's shape,
and azure-core responses carrying what the fake answers."""
from __future__ import annotations

import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus

import requests
from azure.core.rest._requests_basic import RestRequestsTransportResponse


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict
    body: dict | None


class BatchError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def matches(pattern: str, files: dict) -> list[tuple[str, str | None]]:
    """(file, its name below the pattern's fixed folder) of each file the pattern takes;
    the name is None for a pattern without wildcards, whose path names the blob."""
    if not any(c in pattern for c in "*?["):
        return [(pattern, None)] if pattern in files else []
    fixed = pattern[:min(pattern.index(c) for c in "*?[" if c in pattern)]
    folder = fixed[:fixed.rfind("/") + 1]
    regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
    return [(name, name[len(folder):]) for name in sorted(files)
            if re.fullmatch(regex, name)]


def json_body(request):
    content = request.content
    if not content:
        return None
    return json.loads(content if isinstance(content, (str, bytes)) else bytes(content))


def as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def response(request, status: int, answer, headers: dict, stream: bool):
    """The response azure-core's own requests transport would give for these bytes."""
    raw = requests.Response()
    raw.status_code, raw.reason, raw.url = status, HTTPStatus(status).phrase, request.url
    if isinstance(answer, bytes):
        content, kind = answer, "application/octet-stream"
    else:
        content = b"" if answer is None else json.dumps(answer).encode()
        kind = "application/json;odata=minimalmetadata"
    raw._content, raw._content_consumed, raw.raw = content, True, io.BytesIO(content)
    raw.headers.update({"Content-Type": kind, "request-id": str(uuid.uuid4()), **headers})
    response = RestRequestsTransportResponse(request=request, internal_response=raw,
                                             block_size=4096)
    if not stream:
        response.read()
    return response
