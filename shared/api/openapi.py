"""The OpenAPI 3 description of the HTTP API, served as JSON."""
from __future__ import annotations

import functools
from pathlib import Path

from shared.api.replies import Reply

SOURCE = Path(__file__).with_name("openapi.yaml")


@functools.cache
def document() -> dict:
    """The parsed description (read once: it ships with the code)."""
    import yaml

    return yaml.safe_load(SOURCE.read_text(encoding="utf-8"))


def openapi() -> Reply:
    return Reply(200, document())
