"""The local HTTP server: routes requests to the FunctionApp's HTTP triggers, checking
the key the way the Functions host checks function keys."""
from __future__ import annotations

import hmac
import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from shared.localhost.triggers import Trigger

log = logging.getLogger("mlcycle.http")
ROUTE_PREFIX = "/api/"
MAX_BODY = 512 * 1024 * 1024


def make_server(triggers: list[Trigger], key: str, host: str, port: int) -> ThreadingHTTPServer:
    routes = [t for t in triggers if t.kind == "httpTrigger"]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

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

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.close_connection = True
                return self._error(413, "PayloadTooLarge", f"body over {MAX_BODY} bytes")
            body = self.rfile.read(length) if length else b""
            if not url.path.startswith(ROUTE_PREFIX):
                return self._error(404, "NotFound", f"no route {url.path}")
            found = _match(routes, url.path[len(ROUTE_PREFIX):], self.command)
            if found is None:
                return self._error(404, "NotFound", f"no route {self.command} {url.path}")
            if found == "method":
                return self._error(405, "MethodNotAllowed",
                                   f"{self.command} is not allowed on {url.path}")
            trigger, route_params = found
            params = dict(parse_qsl(url.query))
            if trigger.auth_level != "anonymous" and not self._authorised(params):
                return self._error(401, "Unauthorized", "a valid key is required")
            request = func.HttpRequest(self.command, f"http://{host}:{port}{self.path}",
                                       headers=dict(self.headers.items()), params=params,
                                       route_params=route_params, body=body)
            try:
                response = trigger.function(**{trigger.arg_name: request})
            except Exception:
                log.exception("HTTP function %s raised", trigger.name)
                return self._error(500, "InternalError", "the function failed")
            self._send(response.status_code, response.get_body(), dict(response.headers))

        def _authorised(self, params: dict) -> bool:
            given = self.headers.get("x-functions-key") or params.get("code") or ""
            return hmac.compare_digest(given.encode(), key.encode())

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
            self.wfile.write(body)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def _match(routes: list[Trigger], path: str, method: str):
    wrong_method = False
    for trigger in routes:
        m = trigger.pattern.match(path.strip("/"))
        if m is None:
            continue
        if method.upper() not in trigger.methods:
            wrong_method = True
            continue
        return trigger, m.groupdict()
    return "method" if wrong_method else None
