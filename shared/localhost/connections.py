"""The local server's connections: a bound on how many it holds, an idle timeout on each,
and TLS or plain HTTP on one port, told apart by the client's first byte."""
from __future__ import annotations

import json
import logging
import socket
import ssl
import sys
import threading
from http.server import ThreadingHTTPServer

log = logging.getLogger("mlcycle.http")
# Above the 256 clients the bench drives at once, with room for connections still
# closing from its previous run; each is a thread, idle ones cost a stack and no CPU.
MAX_CONNECTIONS = 512
IDLE_TIMEOUT_S = 30.0  # a kept-alive or slow client is dropped after this long silent
TLS_HANDSHAKE = 0x16  # the first byte of every TLS ClientHello record
QUIET = (ConnectionResetError, BrokenPipeError, TimeoutError, ssl.SSLError)


class Server(ThreadingHTTPServer):
    """One thread per connection, as http.server does, but no more than max_connections
    at once: over that, a connection gets a 503 at once instead of a thread."""

    daemon_threads = True

    def __init__(self, address, handler, *, tls: ssl.SSLContext | None = None,
                 max_connections: int = MAX_CONNECTIONS,
                 idle_timeout_s: float = IDLE_TIMEOUT_S) -> None:
        self.tls = tls
        self.idle_timeout_s = idle_timeout_s
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            _turn_away(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # the thread did not start: its slot is free again
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            request.settimeout(self.idle_timeout_s)
            request = self._unwrap(request)
            if request is not None:
                super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _unwrap(self, request):
        """The connection as the handler reads it: TLS-wrapped when the client opened
        with a handshake (and TLS is on), else as it came. None when it already left."""
        try:
            first = request.recv(1, socket.MSG_PEEK)
            if not first:
                self.shutdown_request(request)
                return None
            if self.tls is not None and first[0] == TLS_HANDSHAKE:
                return self.tls.wrap_socket(request, server_side=True)
            return request
        except (OSError, ssl.SSLError) as exc:  # a port scan, a client that gave up
            log.debug("connection dropped before its first request: %s", exc)
            self.shutdown_request(request)
            return None

    def handle_error(self, request, client_address) -> None:
        # A client that hangs up or falls silent between requests is not an error.
        if isinstance(sys.exc_info()[1], QUIET):
            log.debug("%s closed or timed out", client_address)
            return
        super().handle_error(request, client_address)


class Server6(Server):
    address_family = socket.AF_INET6  # "::1" and other IPv6 addresses


def _turn_away(request) -> None:
    body = json.dumps({"error": {"code": "ServiceUnavailable",
                                 "message": "too many open connections; retry later"}}).encode()
    head = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Retry-After: 1\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n")
    try:
        request.settimeout(1.0)  # never hold the accepting thread for a slow reader
        request.sendall(head.encode() + body)
    except OSError:
        pass
    finally:
        try:
            request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        request.close()
