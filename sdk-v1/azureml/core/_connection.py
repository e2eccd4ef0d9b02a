"""How the SDK v1 names reach mlcycle: its HTTP API (`/api`), through the CLI's own
client and bundles, so that a v1 submission and `mlcycle job create` are one way in."""
from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from azureml.exceptions import AzureMLException, UserErrorException

NOT_FOUND = "NotFound:"  # how the CLI client words a 404's {"error": {"code"}}


@dataclass(frozen=True)
class Connection:
    """The API's endpoint (`http://127.0.0.1:8470`, no `/api`) and the key it wants."""

    endpoint: str
    key: str

    def __repr__(self) -> str:
        return f"Connection(endpoint={self.endpoint!r}, key=***)"  # never the key

    @property
    def client(self):
        """The CLI's HTTP client for this endpoint (`shared.cli.client.Client`)."""
        from shared.cli.client import Client, Config

        return Client(Config(self.endpoint, self.key))

    def json(self, method: str, path: str, body: Any = None, *,
             error: type[AzureMLException] = UserErrorException, **kwargs: Any) -> Any:
        """One request; its JSON answer. A failure raises `error` with the server's reason."""
        with failures(error):
            return self.client.json(method, path, body, **kwargs)

    def request(self, method: str, path: str, body: Any = None, *,
                error: type[AzureMLException] = UserErrorException, **kwargs: Any):
        """One request; the CLI client's Response (status, headers, body bytes)."""
        with failures(error):
            return self.client.request(method, path, body, **kwargs)

    def get_or_none(self, path: str, *,
                    error: type[AzureMLException] = UserErrorException) -> Any:
        """GET path's JSON, or None where the API answers 404."""
        from shared.cli.errors import CliError

        try:
            return self.client.json("GET", path)
        except CliError as exc:
            if str(exc).startswith(NOT_FOUND):
                return None
            raise error(str(exc)) from None

    def submit(self, route: str, spec: dict, *, error: type[AzureMLException] = UserErrorException,
               **extra: Any) -> dict:
        """Post an Azure ML v2 spec as `mlcycle <kind> create -f` does: written to a file,
        bundled with the local paths it names (absolute ones are copied into the bundle),
        uploaded to /api/snapshots and posted to route."""
        from shared.cli import bundle, submit

        with tempfile.TemporaryDirectory(prefix="azureml-v1-spec-") as tmp:
            spec_file = Path(tmp) / "spec.yml"
            spec_file.write_bytes(bundle.yaml_text(spec))
            with failures(error):
                return submit.submit_file(self.client, route, str(spec_file), spec=spec, **extra)

    def wait(self, fetch: Callable[[], Any], settled: Callable[[Any], bool], *, what: str,
             timeout: float, interval: float = 0.5,
             error: type[AzureMLException] = UserErrorException) -> Any:
        """Poll fetch until settled(result); raise error after timeout seconds."""
        from shared.cli import submit

        with failures(error):
            return submit.wait_for(fetch, settled, what=what, interval=interval, timeout=timeout)


@contextlib.contextmanager
def failures(error: type[AzureMLException]) -> Iterator[None]:
    """The CLI client's one-line failures, raised as the v1 exception callers catch."""
    from shared.cli.errors import CliError

    try:
        yield
    except CliError as exc:
        raise error(str(exc)) from None


def quote(segment: str) -> str:
    """One path segment of a route, escaped."""
    from shared.cli.client import quote as quote_segment

    return quote_segment(segment)


def absolute(path: str | os.PathLike[str]) -> str:
    """A local path as the absolute path a spec names (the bundle copies it in)."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))
