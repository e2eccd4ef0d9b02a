"""Signed URLs for the Blob API subset: what a shared access signature is to Azure
Storage, made with mlcycle's key. A signature names one container, the operations it
allows and when it expires; the URL carries it, so a client needs no key of its own."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from shared.arm.call import Unauthorized

READ, WRITE, LIST = "r", "w", "l"
LIFETIME = timedelta(hours=8)


def sign(key: str, container: str, permissions: str, *, now: datetime | None = None) -> str:
    """A query string (sv, se, sp, sr and the signature, sig) for container."""
    expiry = ((now or datetime.now(timezone.utc)) + LIFETIME).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = {"sv": "2021-08-06", "se": expiry, "sp": permissions, "sr": "c"}
    return urlencode({**fields, "sig": _signature(key, container, permissions, expiry)})


def verify(key: str, container: str, permission: str, query: dict, *,
           now: datetime | None = None) -> None:
    """Raises Unauthorized unless query signs container for permission and has not expired."""
    expiry, granted, given = query.get("se", ""), query.get("sp", ""), query.get("sig", "")
    expected = _signature(key, container, granted, expiry) if key else ""
    if not (given and expected and hmac.compare_digest(given, expected)):
        raise Unauthorized("the signature does not match this container")
    if permission not in granted:
        raise Unauthorized(f"the signature does not allow this operation ({permission!r})")
    try:
        ends = datetime.strptime(expiry, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise Unauthorized("the signature's expiry is not a time") from None
    if ends < (now or datetime.now(timezone.utc)):
        raise Unauthorized("the signature has expired")


def _signature(key: str, container: str, permissions: str, expiry: str) -> str:
    message = f"mlcycle-sas\n{container}\n{permissions}\n{expiry}".encode()
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()
