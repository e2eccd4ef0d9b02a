"""The local server's connections: plain HTTP and TLS on one port, a bound on how many
connections (and so threads) it holds, and an idle timeout that drops silent clients."""
import json
import socket
import ssl
import threading
import time
import urllib.request

import pytest

from shared.localhost.http_server import make_server
from shared.localhost.tls import ensure_certificates, server_context
from shared.localhost.triggers import read_triggers


@pytest.fixture
def serving(tmp_path):
    servers = []

    def start(**options):
        import function_app

        server = make_server(read_triggers(function_app.app), "k", "127.0.0.1", 0, **options)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _health(url: str, context=None) -> dict:
    with urllib.request.urlopen(f"{url}/api/health", timeout=30, context=context) as reply:
        return json.loads(reply.read())


def test_plain_http_and_tls_are_served_on_the_same_port(serving, tmp_path):
    files = ensure_certificates(tmp_path)
    server = serving(tls=server_context(files))
    port = server.server_address[1]
    trusting = ssl.create_default_context(cafile=str(files.bundle))
    assert _health(f"http://127.0.0.1:{port}") == {"status": "ok"}
    assert _health(f"https://127.0.0.1:{port}", trusting) == {"status": "ok"}
    with pytest.raises(urllib.error.URLError):  # a client that does not trust it is refused
        _health(f"https://127.0.0.1:{port}", ssl.create_default_context())


def test_certificates_are_made_once_and_kept_private(tmp_path):
    first = ensure_certificates(tmp_path)
    made = first.server_cert.read_bytes()
    assert ensure_certificates(tmp_path).server_cert.read_bytes() == made
    assert oct(first.server_key.stat().st_mode & 0o777) == "0o600"
    assert oct(first.folder.stat().st_mode & 0o777) == "0o700"


def test_connections_beyond_the_bound_get_a_503_and_no_thread(serving):
    server = serving(max_connections=4, idle_timeout_s=60)
    port = server.server_address[1]
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
    for s in idle:
        s.sendall(b"G")  # a request begun and never finished holds its connection
    time.sleep(0.5)
    turned_away = []
    for _ in range(20):
        extra = socket.create_connection(("127.0.0.1", port), timeout=10)
        turned_away.append(extra.recv(4096))
        extra.close()
    assert all(reply.startswith(b"HTTP/1.1 503") for reply in turned_away)
    assert threading.active_count() <= before + 4
    for s in idle:
        s.close()


def test_a_silent_client_is_dropped_after_the_idle_timeout(serving):
    server = serving(idle_timeout_s=0.5)
    quiet = socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=30)
    quiet.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
    first = quiet.recv(65536)
    assert first.startswith(b"HTTP/1.1 200")
    assert quiet.recv(65536) == b""  # kept alive, then closed by the server when silent
    quiet.close()
