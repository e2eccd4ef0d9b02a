"""The local HTTP server: routes requests to the FunctionApp's HTTP triggers, checking
the key the way the Functions host checks function keys."""
from __future__ import annotations

import hmac
import json
import logging
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

import azure.functions as func

from shared.localhost.triggers import Trigger

log = logging.getLogger("mlcycle.http")
ROUTE_PREFIX = "/api/"
MAX_BODY = 16 * 1024 * 1024  # JSON bodies: as much as the API's own JSON parser takes
MAX_UPLOAD = 512 * 1024 * 1024  # code and data bundles
UPLOAD_ROUTES = frozenset({"snapshots"})


def make_server(triggers: list[Trigger], key: str, host: str, port: int, *,
                max_body: int = MAX_BODY, max_upload: int = MAX_UPLOAD) -> ThreadingHTTPServer:
    """Serve the app's HTTP triggers. Bodies over max_body bytes (max_upload for the
    upload routes) are refused with 413 before they are read."""
    routes = [t for t in triggers if t.kind == "httpTrigger"]
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

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
                found = _match(routes, url.path[len(ROUTE_PREFIX):], self.command)
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
            try:
                request = func.HttpRequest(self.command, f"http://{authority}{self.path}",
                                           headers=dict(self.headers.items()), params=params,
                                           route_params=route_params, body=body)
                response = trigger.function(**{trigger.arg_name: request})
            except Exception:
                log.exception("HTTP function %s raised", trigger.name)
                return self._error(500, "InternalError", "the function failed")
            self._send(response.status_code, response.get_body(), dict(response.headers))

        def _authorised(self, params: dict) -> bool:
            given = self.headers.get("x-functions-key") or params.get("code") or ""
            return hmac.compare_digest(given.encode(), key.encode())

        def _refuse(self, status: int, code: str, message: str) -> None:
            # The body was not read: the connection cannot carry another request.
            self.close_connection = True
            self._error(status, code, message)

        def _error(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"error": {"code": code, "message": message}}).encode()
            self._send(status, body, {"Content-Type": "application/json"})

        def _send(self, status: int, body: bytes, headers: dict) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    server = (_Server6 if ":" in host else _Server)((host, port), Handler)
    server.daemon_threads = True
    return server


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # A keep-alive client that hangs up between requests is not an error.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            log.debug("%s closed the connection", client_address)
            return
        super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6  # "::1" and other IPv6 addresses


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


def _match(routes: list[Trigger], path: str, method: str):
    wrong_method = False
    for trigger in routes:
        m = trigger.pattern.match(path.strip("/"))
        if m is None:
            continue
        if method.upper() not in trigger.methods:
            wrong_method = True
            continue
        # The Functions host hands route parameters over percent-decoded.
        return trigger, {k: unquote(v) for k, v in m.groupdict().items()}
    return "method" if wrong_method else None
