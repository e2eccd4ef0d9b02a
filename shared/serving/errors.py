"""Errors a scoring caller can act on; the HTTP layer turns them into JSON replies."""
from __future__ import annotations

from shared.domain.errors import PermanentError


class BadRequest(PermanentError):
    """The request body cannot be scored as sent; the message names what to change."""

    code = "BadRequest"
    status = 400


class InvalidModel(PermanentError):
    """The ONNX file cannot be loaded or does not answer a generated input.

    Permanent: retrying the same file gives the same answer, so a deployment of it
    fails at once instead of cycling through the bus's retries.
    """

    code = "InvalidModel"
    status = 500
