"""The pieces every studio page is made of: escaping, the page frame, tables, links."""
from __future__ import annotations

import html
from datetime import datetime
from urllib.parse import quote

from shared.api.replies import Reply

NAV = (("Runs", "/runs"), ("Data", "/data"), ("Models", "/models"),
       ("Compute", "/computes"), ("Endpoints", "/endpoints"))
# Plotly draws with inline styles, so style-src allows them; scripts come from the
# studio itself only.
SECURITY = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def h(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def q(value: object) -> str:
    """A value as one URL path segment."""
    return quote(str(value), safe="")


def page(base: str, title: str, body: str, *, scripts: tuple[str, ...] = (),
         status: int = 200, nav: bool = True, data: dict | None = None) -> Reply:
    """A whole HTML page. `data` lands as data-* attributes on <main>, which is how the
    page's script learns what to poll (never inline script: the CSP forbids it)."""
    links = "".join(f'<a href="{h(base + path)}">{h(label)}</a>' for label, path in NAV)
    header = (f'<header><a class="brand" href="{h(base or "/")}">mlcycle studio</a>'
              f'<nav>{links}</nav><form method="post" action="{h(base)}/logout">'
              f'<button>Sign out</button></form></header>') if nav else ""
    attrs = "".join(f' data-{h(k)}="{h(v)}"' for k, v in (data or {}).items())
    tags = "".join(f'<script src="{h(base)}/static/{h(s)}"></script>' for s in scripts)
    text = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{h(title)} · mlcycle studio</title><link rel="icon" href="data:,">'
            f'<link rel="stylesheet" href="{h(base)}/static/studio.css"></head>'
            f'<body>{header}<main data-base="{h(base)}"{attrs}><h1>{h(title)}</h1>{body}'
            f'</main>{tags}</body></html>')
    return Reply(status, text.encode(), {"Content-Type": "text/html; charset=utf-8",
                                         **SECURITY})


def table(headings: list[str], rows: list[list[str]], *, cls: str = "",
          empty: str = "Nothing yet.") -> str:
    """A table of cells that are already HTML (escape them with h())."""
    if not rows:
        return f'<p class="empty">{h(empty)}</p>'
    head = "".join(f"<th>{h(x)}</th>" for x in headings)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{h(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def pairs(items: dict) -> str:
    """A definition list of name -> value (values escaped here)."""
    if not items:
        return '<p class="empty">None.</p>'
    rows = "".join(f"<dt>{h(k)}</dt><dd>{h(_text(v))}</dd>" for k, v in items.items())
    return f"<dl>{rows}</dl>"


def section(title: str, inner: str) -> str:
    heading = f"<h2>{h(title)}</h2>" if title else ""
    return f"<section>{heading}{inner}</section>"


def link(href: str, text: object) -> str:
    return f'<a href="{h(href)}">{h(text)}</a>'


def badge(status: object) -> str:
    return f'<span class="status s-{h(str(status).lower())}">{h(status)}</span>'


def duration(start: str | None, end: str | None, now: str | None = None) -> str:
    """Seconds between two ISO times as 1h 2m 3s; '' without a start."""
    if not start:
        return ""
    try:
        until = datetime.fromisoformat(end or now or datetime.now(
            datetime.fromisoformat(start).tzinfo).isoformat())
        seconds = int((until - datetime.fromisoformat(start)).total_seconds())
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return " ".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m")) if n) + f" {secs}s" \
        if hours or minutes else f"{secs}s"


def _text(value: object) -> str:
    if isinstance(value, (dict, list)):
        import json
        return json.dumps(value, sort_keys=True)
    return "" if value is None else str(value)
