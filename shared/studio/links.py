"""Where a run's studio page is, for whoever prints a link to it (the CLI, the SDK
door's services.Studio, the v1 SDK's get_portal_url)."""
from __future__ import annotations

from urllib.parse import quote

# The same path on every host: Functions puts its routes under /api, and the local
# host serves the studio there too (as well as at /).
STUDIO_MOUNT = "/api/studio"


def run_url(endpoint: str, run_id: str) -> str:
    return f"{endpoint.rstrip('/')}{STUDIO_MOUNT}/runs/{quote(run_id, safe='')}"
