"""The studio's own script and styles, and Plotly's bundle from the installed plotly
package (nothing is fetched from a CDN: a host here may reach nothing outside)."""
from __future__ import annotations

import functools
from pathlib import Path

from shared.api.replies import Reply, error

HERE = Path(__file__).parent / "static"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@functools.lru_cache(maxsize=8)
def _read(name: str) -> bytes | None:
    if name == "plotly.min.js":
        try:
            import plotly
        except ImportError:
            return None
        path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    elif name in {p.name for p in HERE.iterdir()}:
        path = HERE / name
    else:
        return None
    return path.read_bytes() if path.is_file() else None


def serve(name: str) -> Reply:
    body = _read(name)
    if body is None:
        return error(404, "NotFound", f"no static file {name!r}")
    return Reply(200, body, {"Content-Type": TYPES.get(Path(name).suffix, "text/plain"),
                             "Cache-Control": "max-age=3600",
                             "X-Content-Type-Options": "nosniff"})
