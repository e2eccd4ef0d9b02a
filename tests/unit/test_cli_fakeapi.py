"""A fake mlcycle API for the CLI tests: records each request and answers canned responses."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

import pytest

KEY = "test-key-not-secret"


@dataclass
class Recorded:
    method: str
    path: str  # without the query
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)


class FakeApi:
    """Routes are (method, path) → an Answer, a list of Answers served in turn (the last
    repeats), or a function of the Recorded request returning an Answer."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Any] = {}
        self.requests: list[Recorded] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def on(self, method: str, path: str, *answers: Answer | Callable[[Recorded], Answer]) -> None:
        self.routes[(method, path)] = list(answers)

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request: Recorded) -> Answer:
        answers = self.routes.get((request.method, request.path))
        if not answers:
            return Answer(404, {"error": {"code": "NotFound", "message": f"no route {request.path}"}})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request) if callable(answer) else answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Recorded(self.command, url.path, url.query,
                                   {k.lower(): v for k, v in self.headers.items()},
                                   self.rfile.read(length))
                api.requests.append(request)
                answer = api._answer(request)
                body = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def api(tmp_path, monkeypatch):
    """A running FakeApi that the CLI is configured for, through $MLCYCLE_HOME/config.json."""
    fake = FakeApi()
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.json").write_text(json.dumps({"endpoint": fake.endpoint, "key": KEY}))
    monkeypatch.setenv("MLCYCLE_HOME", str(home))
    monkeypatch.delenv("MLCYCLE_ENDPOINT", raising=False)
    monkeypatch.delenv("MLCYCLE_KEY", raising=False)
    # The CLI polls at human speed; tests should not wait for it.
    from shared.cli import assets, endpoints, jobs

    for module in (assets, endpoints, jobs):
        monkeypatch.setattr(module, "POLL_INTERVAL_S", 0.01)
    yield fake
    fake.close()


def snapshot_accepted() -> Answer:
    return Answer(201, {"id": "sha256-of-bundle"})
