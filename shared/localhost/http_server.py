"""The local HTTP server: routes requests to the FunctionApp's HTTP triggers, checking
the key the way the Functions host checks function keys."""
from __future__ import annotations

import hmac
import logging
import ssl
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from shared.api.replies import Reply, dumps
from shared.localhost.connections import IDLE_TIMEOUT_S, MAX_CONNECTIONS, Server, Server6
from shared.localhost.routes import RouteTable
from shared.localhost.triggers import Trigger

log = logging.getLogger("mlcycle.http")
ROUTE_PREFIX = "/api/"
STUDIO_ROUTE = "studio"
MAX_BODY = 16 * 1024 * 1024  # JSON bodies: as much as the API's own JSON parser takes
MAX_UPLOAD = 512 * 1024 * 1024  # code and data bundles
DRAIN_BYTES = 64 * 1024 * 1024  # at most this much of a refused body is read and dropped
DRAIN_SECONDS = 3.0
UPLOAD_ROUTES = frozenset({"snapshots", "storage/{*path}"})  # bundles, Blob API
# A direct route: (route parameters, headers with lower-case names, body) -> Reply.
Direct = Callable[[dict, dict, bytes], Reply]


def make_server(triggers: list[Trigger], key: str, host: str, port: int, *,
                max_body: int = MAX_BODY, max_upload: int = MAX_UPLOAD,
                tls: ssl.SSLContext | None = None, max_connections: int = MAX_CONNECTIONS,
                idle_timeout_s: float = IDLE_TIMEOUT_S,
                direct: dict[str, Direct] | None = None) -> ThreadingHTTPServer:
    """Serve the app's HTTP triggers, over plain HTTP and, given tls, HTTPS on the same
    port. Bodies over max_body bytes (max_upload for the upload routes) are refused with
    413 before they are read; connections beyond max_connections get a 503, and one
    silent for idle_timeout_s is closed.

    direct: trigger name -> a function the server calls in place of that trigger's,
    without building Functions' request and response objects (the scoring route: they
    cost a fifth of a small request). Routing, the key check and the body limits are the
    same as for every route."""
    table = RouteTable([t for t in triggers if t.kind == "httpTrigger"])
    direct = direct or {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a client reuses its connection
        # On a kept-alive connection a reply written in two segments (head, then body)
        # waits for the client's delayed ACK under Nagle: 40 ms per request. So the
        # reply is buffered and flushed once per request, and sent without delay.
        disable_nagle_algorithm = True
        wbufsize = 64 * 1024

        def log_message(self, fmt, *args):  # quiet by default; requests go to debug
            log.debug("%s " + fmt, self.address_string(), *args)

        def do_GET(self):
            self._serve()

        def do_POST(self):
            self._serve()

        def do_PUT(self):
            self._serve()

        def do_DELETE(self):
            self._serve()

        # Methods no route takes still get the JSON error contract, not http.server's
        # HTML 501.
        def do_PATCH(self):
            self._serve()

        def do_HEAD(self):
            self._serve()

        def do_OPTIONS(self):
            self._serve()

        def _serve(self) -> None:
            url = urlsplit(self.path)
            params = dict(parse_qsl(url.query))
            found = None
            if url.path.startswith(ROUTE_PREFIX):
                found = table.match(url.path[len(ROUTE_PREFIX):], self.command)
            else:  # everything outside /api is the studio's (shared/studio)
                found = table.match(STUDIO_ROUTE + url.path, self.command)
            trigger = found[0] if isinstance(found, tuple) else None
            # The key is checked before the route is: without it every path, known or
            # not, gets the same answer, so a caller learns nothing about what exists.
            anonymous = trigger is not None and trigger.auth_level == "anonymous"
            if not anonymous and not self._authorised(params):
                return self._refuse(401, "Unauthorized", "a valid key is required")
            length = _content_length(self.headers)
            if length is None:
                return self._refuse(400, "BadRequest", "invalid Content-Length; a body "
                                    "needs a Content-Length of its size in bytes")
            limit = max_upload if trigger is not None and trigger.route in UPLOAD_ROUTES \
                else max_body
            if length > limit:
                return self._refuse(413, "PayloadTooLarge", f"body over {limit} bytes")
            body = self.rfile.read(length) if length else b""
            if found is None:
                return self._error(404, "NotFound", f"no route {self.command} {url.path}")
            if found == "method":
                return self._error(405, "MethodNotAllowed",
                                   f"{self.command} is not allowed on {url.path}")
            trigger, route_params = found
            fast = direct.get(trigger.name)
            if fast is not None:
                return self._direct(fast, route_params, body)
            scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
            # The server's own address, never the Host header: the URLs the SDK door
            # hands out (uploads, logs) are built from this and must point back here.
            authority = self.server.authority
            try:
                request = func.HttpRequest(self.command, f"{scheme}://{authority}{self.path}",
                                           headers=dict(self.headers.items()), params=params,
                                           route_params=route_params, body=body)
                response = trigger.function(**{trigger.arg_name: request})
            except Exception:
                log.exception("HTTP function %s raised", trigger.name)
                return self._error(500, "InternalError", "the function failed")
            self._send(response.status_code, response.get_body(), dict(response.headers))

        def _direct(self, fast: Direct, route_params: dict, body: bytes) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                reply = fast(route_params, headers, body)
                payload, content_type = reply.payload()
            except Exception:
                log.exception("direct route %s raised", self.path)
                return self._error(500, "InternalError", "the function failed")
            self._send(reply.status, payload, {**reply.headers, "Content-Type": content_type})

        def _authorised(self, params: dict) -> bool:
            # As the Functions host does: the key in x-functions-key or ?code=, and not as
            # a bearer token. Routes that must take a bearer (the SDK door, shared/arm,
            # whose callers send the key so) are anonymous here and check it themselves.
            given = self.headers.get("x-functions-key") or params.get("code") or ""
            return hmac.compare_digest(given.encode(), key.encode())

        def _refuse(self, status: int, code: str, message: str) -> None:
            # The body was not read: the connection cannot carry another request.
            self.close_connection = True
            self._error(status, code, message)
            self.wfile.flush()
            self._drain(_content_length(self.headers) or 0)

        def _drain(self, length: int) -> None:
            """Read and drop some of the unread body before closing: a socket closed
            with unread data resets the connection, and a client still sending would
            then lose the refusal it is about to read (the CLI reads it to say why)."""
            deadline = time.monotonic() + DRAIN_SECONDS
            left = min(length, DRAIN_BYTES)
            try:
                self.connection.settimeout(DRAIN_SECONDS)
                while left > 0 and time.monotonic() < deadline:
                    chunk = self.rfile.read1(min(left, 65536))
                    if not chunk:
                        break
                    left -= len(chunk)
            except (OSError, ValueError):  # the client left or fell silent: close anyway
                pass

        def _error(self, status: int, code: str, message: str) -> None:
            # The same bytes as the core's own errors (shared.api.replies), so that a
            # refusal from here and one from a route that checks the key itself match.
            body = dumps({"error": {"code": code, "message": message}})
            self._send(status, body, {"Content-Type": "application/json"})

        def _send(self, status: int, body: bytes, headers: dict) -> None:
            self.send_response(status)
            length = str(len(body))
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
                elif self.command == "HEAD":  # the size of what a GET would send
                    length = value
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    server = (Server6 if ":" in host else Server)(
        (host, port), Handler, tls=tls, max_connections=max_connections,
        idle_timeout_s=idle_timeout_s)
    bound = server.server_address[1]
    server.authority = f"[{host}]:{bound}" if ":" in host else f"{host}:{bound}"
    return server


def _content_length(headers) -> int | None:
    """The body's size; None when it cannot be known safely (a malformed or negative
    Content-Length, or a chunked body, which this server does not read)."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return None
    raw = headers.get("Content-Length")
    if raw in (None, ""):
        return 0
    try:
        length = int(raw)
    except ValueError:
        return None
    return length if length >= 0 else None

