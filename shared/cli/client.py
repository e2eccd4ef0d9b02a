"""HTTP client of the mlcycle API, and where it finds the endpoint and key."""
from __future__ import annotations

import json
import os
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.cli.errors import CliError
from shared.units import human_size

if TYPE_CHECKING:
    import urllib.error
    from email.message import Message

NO_CONFIG = (
    "no local host configured; run `mlcycle up` first "
    "(or set MLCYCLE_ENDPOINT and MLCYCLE_KEY)"
)
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Config:
    """Where the API is and the key it wants (the Functions key, or `mlcycle up`'s token)."""

    endpoint: str
    key: str

    def __repr__(self) -> str:
        # The key must never reach a log or a traceback.
        return f"Config(endpoint={self.endpoint!r}, key=***)"


def load_config() -> Config:
    """Read `$MLCYCLE_HOME/config.json`, with `MLCYCLE_ENDPOINT` / `MLCYCLE_KEY` taking precedence.

    Raises:
        CliError: no endpoint or key from either source, or an unreadable config file.
    """
    from shared.settings import mlcycle_home

    stored: dict[str, Any] = {}
    path = mlcycle_home() / "config.json"
    if path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read {path}: {exc}") from None
        if not isinstance(stored, dict):
            raise CliError(f"cannot read {path}: expected a JSON object")
    endpoint = os.environ.get("MLCYCLE_ENDPOINT") or stored.get("endpoint")
    key = os.environ.get("MLCYCLE_KEY") or stored.get("key")
    if not endpoint or not key:
        raise CliError(NO_CONFIG)
    endpoint = str(endpoint).rstrip("/")
    # Accept the Functions app URL with or without the route prefix.
    if endpoint.endswith("/api"):
        endpoint = endpoint[: -len("/api")]
    return Config(endpoint=endpoint, key=str(key))


@dataclass(frozen=True)
class Response:
    """A successful answer: status, headers and the raw body."""

    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON (None for an empty body)."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise CliError(f"the server answered {self.status} with a body that is not JSON") from None


class Client:
    """Sends requests to the API with the key header; turns every failure into a CliError."""

    def __init__(self, config: Config, timeout: float = 60.0) -> None:
        import urllib.request  # ~50 ms with ssl and email: paid only by commands that call out

        from shared.cli import transport

        self.config = config
        self.timeout = timeout
        host = urllib.parse.urlsplit(config.endpoint).hostname or ""
        # A proxy from the environment must not swallow calls to the local host.
        handlers = [urllib.request.ProxyHandler({})] if host in _LOOPBACK else []
        # A body refused unread (413) still gets its answer read, not a broken pipe.
        self._opener = urllib.request.build_opener(*handlers, *transport.handlers())

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        data: bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """Send one request; `body` is sent as JSON, `data` as raw bytes.

        Raises:
            CliError: the server is unreachable, refused the key, or answered an error.
        """
        import urllib.error
        import urllib.request

        if body is not None:
            data = json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.config.endpoint + path, data=data, method=method)
        req.add_header("x-functions-key", self.config.key)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with self._opener.open(req, timeout=timeout or self.timeout) as resp:
                return Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as exc:
            raise _http_error(exc, sent=len(data or b"")) from None
        except urllib.error.URLError as exc:
            raise self._unreachable(exc.reason, sent=len(data or b"")) from None
        except TimeoutError:
            raise CliError(f"{self.config.endpoint} did not answer in time") from None
        except OSError as exc:
            raise self._unreachable(exc, sent=len(data or b"")) from None

    def json(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """`request`, returning the parsed JSON answer."""
        return self.request(method, path, body, **kwargs).json()

    def _unreachable(self, reason: object, sent: int = 0) -> CliError:
        if isinstance(reason, (BrokenPipeError, ConnectionResetError)) and sent:
            return CliError(f"{self.config.endpoint} closed the connection while a "
                            f"{human_size(sent)} body was being sent, without an answer; it may "
                            "take no body that large")
        if isinstance(reason, ConnectionRefusedError):
            return CliError(f"cannot reach {self.config.endpoint}: is `mlcycle up` running?")
        if isinstance(reason, TimeoutError):
            return CliError(f"{self.config.endpoint} did not answer in time")
        return CliError(f"cannot reach {self.config.endpoint}: {reason}")


def _http_error(exc: urllib.error.HTTPError, sent: int = 0) -> CliError:
    if exc.code == 401:
        return CliError("the API key was refused")
    try:
        raw = exc.read()
    except OSError:
        raw = b""
    # A 413's message names the server's limit; the size sent shows how far over it is.
    too_large = f" (the body sent was {human_size(sent)})" if exc.code == 413 and sent else ""
    try:
        error = json.loads(raw)["error"]
        return CliError(f"{error.get('code', exc.code)}: {error.get('message', '')}{too_large}")
    except (ValueError, KeyError, TypeError, AttributeError):
        first_line = raw.decode("utf-8", "replace").strip().splitlines()[:1]
        detail = first_line[0][:200] if first_line else exc.reason
        return CliError(f"HTTP {exc.code}: {detail}")



def quote(segment: str) -> str:
    """One path segment of a route, escaped."""
    return urllib.parse.quote(str(segment), safe="")
