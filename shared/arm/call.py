"""One request to the SDK door, free of the Functions types."""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from shared.api.replies import parse_json
from shared.domain.errors import MlcycleError


class Unauthorized(MlcycleError):
    code = "Unauthorized"
    status = 401


@dataclass(frozen=True)
class Call:
    """method, path (below the door's prefix, no query), query parameters, headers with
    lower-case names, the body, and `base`: the scheme and authority this host was
    reached at, which every URL the door hands out starts with."""

    method: str
    path: str
    query: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    base: str = ""

    def json(self) -> dict:
        return parse_json(self.body)

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")


def require_key(call: Call, key: str) -> None:
    """The SDK's credential token (a bearer) is mlcycle's key; the Functions key header
    is taken too. Raises Unauthorized otherwise, with the same words as the server's own
    refusal, so a caller learns nothing more."""
    given = call.headers.get("authorization", "")
    token = given[7:].strip() if given[:7].lower() == "bearer " else ""
    token = token or call.headers.get("x-functions-key", "")
    if not key or not token or not hmac.compare_digest(token.encode(), key.encode()):
        raise Unauthorized("a valid key is required")
