"""The studio's routes: one table from (method, path pattern) to a page or a feed, and
the sign-in check in front of all but the login page and the static files."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from shared.api.replies import Reply, error
from shared.domain.errors import MlcycleError
from shared.studio import assets, auth, computes, endpoints, runs, static
from shared.studio.html import SECURITY, h, page


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # below the studio's base, starting with "/"
    base: str  # where the studio is mounted: "" locally, "/api/studio" on Functions
    query: dict = field(default_factory=dict)  # name -> list of values
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    secure: bool = False

    def arg(self, name: str, default: str = "") -> str:
        values = self.query.get(name) or [default]
        return values[0]

    def args(self, name: str) -> list[str]:
        """Every value of name, commas splitting them too (?runs=a,b&runs=c)."""
        return [v for raw in self.query.get(name) or () for v in raw.split(",") if v]


_ID = r"(?P<id>[^/]+)"
ROUTES = [
    ("GET", r"/", lambda r, p: redirect(r.base + "/runs")),
    ("GET", r"/runs", runs.list_page),
    ("GET", rf"/runs/{_ID}", runs.run_page),
    ("GET", rf"/runs/{_ID}/log", runs.log_feed),
    ("GET", rf"/runs/{_ID}/metrics\.json", runs.metrics_feed),
    ("GET", rf"/runs/{_ID}/files/(?P<path>.+)", runs.download),
    ("POST", rf"/runs/{_ID}/cancel", runs.cancel),
    ("GET", r"/compare", runs.compare_page),
    ("GET", r"/compare/metrics\.json", runs.compare_feed),
    ("GET", r"/data", assets.data_list),
    ("GET", rf"/data/{_ID}/(?P<version>[^/]+)", assets.data_page),
    ("GET", r"/models", assets.model_list),
    ("GET", rf"/models/{_ID}/(?P<version>[^/]+)", assets.model_page),
    ("GET", r"/computes", computes.list_page),
    ("GET", rf"/computes/{_ID}", computes.pool_page),
    ("GET", rf"/computes/{_ID}/history\.json", computes.history_feed),
    ("GET", r"/endpoints", endpoints.list_page),
    ("GET", rf"/endpoints/{_ID}", endpoints.endpoint_page),
    ("GET", rf"/endpoints/{_ID}/stats\.json", endpoints.stats_feed),
    ("POST", rf"/endpoints/{_ID}/try", endpoints.try_it),
]
_COMPILED = [(m, re.compile(p + r"/?\Z"), f) for m, p, f in ROUTES]


def serve(request: Request, ports: dict) -> Reply:
    """The reply to one studio request. Anything not signed in goes to the login page
    (a page) or gets a 401 (a feed or a POST)."""
    path = request.path or "/"
    if request.method == "POST" and _cross_site(request):
        # SameSite=Strict already keeps the cookie off other sites' requests; this refuses
        # a cross-site form even where a browser sends the cookie anyway (login included).
        return _json_error(403, "Forbidden", "a studio form can only be sent from the studio")
    if path.startswith("/static/") and request.method in ("GET", "HEAD"):
        return static.serve(path[len("/static/"):])
    if path.rstrip("/") == "/login":
        return login(request, ports)
    if path.rstrip("/") == "/logout" and request.method == "POST":
        return redirect(request.base + "/login", cookie=auth.logout_cookie())
    key = ports["settings"].api_key
    found = _match(request.method, path)
    if not auth.signed_in(request.headers, key):
        # Known or not, every page answers alike until signed in: nothing tells one
        # from the other.
        if request.method == "GET" and not _is_feed(path):
            return redirect(request.base + "/login")
        return _json_error(401, "Unauthorized", "sign in to the studio first")
    if found is None:
        if not _wants_html(request):  # a script or an API client: the API's JSON error
            return _json_error(404, "NotFound", f"no route {path}: not a studio page")
        return page(request.base, "Not found", f"<p>No page {h(path)}.</p>", status=404)
    handler, params = found
    try:
        return handler(request, ports, **params)
    except MlcycleError as exc:
        if request.method != "GET" or _is_feed(path) or not _wants_html(request):
            raise  # the API's JSON error, from the host's guard
        status = exc.status if 400 <= exc.status < 600 else 500
        return page(request.base, "Not found" if status == 404 else "Cannot show this",
                    f'<p class="error">{h(exc)}</p>', status=status)


def login(request: Request, ports: dict) -> Reply:
    key = ports["settings"].api_key
    wrong = ""
    if request.method == "POST":
        if key and auth.form_key(request.body) == key:
            return redirect(request.base + "/runs",
                            cookie=auth.login_cookie(key, secure=request.secure))
        wrong = '<p class="error" role="alert">That key is not this workspace\'s key.</p>'
    form = (f'{wrong}<form class="login" method="post" action="{h(request.base)}/login">'
            '<label>API key <input type="password" name="key" autocomplete="current-password"'
            ' required autofocus></label><button type="submit">Sign in</button></form>'
            '<p class="hint">The key is in <code>$MLCYCLE_HOME/config.json</code> '
            '(<code>mlcycle up</code> writes it).</p>')
    return page(request.base, "Sign in", form, nav=False, status=401 if wrong else 200)


def redirect(location: str, *, cookie: str | None = None) -> Reply:
    headers = {"Location": location or "/", "Content-Type": "text/plain; charset=utf-8",
               "Cache-Control": "no-store"}
    if cookie:
        headers["Set-Cookie"] = cookie
    return Reply(303, b"", headers)


def parse_query(raw: str) -> dict:
    return parse_qs(raw, keep_blank_values=False)


def _match(method: str, path: str):
    for m, pattern, handler in _COMPILED:
        found = pattern.match(path)
        if found and m == method:
            return handler, found.groupdict()
    return None


def _cross_site(request: Request) -> bool:
    """An Origin header naming another host than the one the request came to."""
    lowered = {k.lower(): v for k, v in request.headers.items()}
    origin, host = lowered.get("origin"), lowered.get("host")
    if not origin or not host:
        return False  # not a browser's cross-site request (a browser sends both on a POST)
    return origin == "null" or urlsplit(origin).netloc.lower() != host.lower()


def _wants_html(request: Request) -> bool:
    """A browser asks for text/html; anything else gets JSON errors."""
    lowered = {k.lower(): v for k, v in request.headers.items()}
    return "text/html" in lowered.get("accept", "")


def _is_feed(path: str) -> bool:
    return path.endswith(".json") or path.endswith("/log") or "/files/" in path


def _json_error(status: int, code: str, message: str) -> Reply:
    reply = error(status, code, message)
    reply.headers.update(SECURITY)
    return reply
