"""What every `create` shares: upload a bundle, post the spec, wait for a state to settle."""
from __future__ import annotations

import sys
import time
from typing import Any, Callable, Iterable

from shared.cli import bundle
from shared.cli.client import Client
from shared.cli.errors import CliError


def submit_file(
    client: Client, route: str, spec_file: str, sets: Iterable[str] = (),
    spec: dict[str, Any] | None = None, **extra: Any,
) -> Any:
    """Bundle `spec_file` with what it references and post it to `route`. A `--set` of
    a local path is applied here, so that what it names is bundled too."""
    loaded = bundle.load_spec_file(spec_file) if spec is None else spec
    changed, sets = bundle.apply_path_sets(loaded, list(sets))
    data, spec_path = bundle.bundle_spec_file(spec_file, changed, rewritten=changed != loaded)
    return submit_bundle(client, route, data, spec_path, sets, **extra)


def submit_bundle(
    client: Client, route: str, data: bytes, spec_path: str, sets: Iterable[str] = (), **extra: Any
) -> Any:
    """Upload a bundle to `/api/snapshots`, then post `{snapshot, spec_path, set}` to `route`."""
    snapshot = client.json("POST", "/api/snapshots", data=data, content_type="application/gzip",
                           timeout=max(client.timeout, 600.0))
    if not isinstance(snapshot, dict) or "id" not in snapshot:
        raise CliError("the server did not return a snapshot id")
    body = {"snapshot": snapshot["id"], "spec_path": spec_path, "set": list(sets), **extra}
    created = client.json("POST", route, body)
    print_warnings(created)
    return created


def print_warnings(record: Any) -> None:
    """Each of a record's `warnings` (what the server accepted but will not act on) as
    one line on stderr, so that stdout stays the record alone."""
    warnings = record.get("warnings") if isinstance(record, dict) else None
    for warning in warnings if isinstance(warnings, list) else ():
        print(f"mlcycle: warning: {warning}", file=sys.stderr)


def wait_for(
    fetch: Callable[[], Any], settled: Callable[[Any], bool], *,
    what: str, interval: float, timeout: float,
) -> Any:
    """Call `fetch` every `interval` seconds until `settled(result)`; return that result.

    Raises:
        CliError: `timeout` seconds passed first.
    """
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        result = fetch()
        if settled(result):
            if announced:
                print(file=sys.stderr)
            return result
        if time.monotonic() >= deadline:
            raise CliError(f"timed out after {timeout:g} s waiting for {what}")
        if sys.stderr.isatty():  # progress dots for people, nothing for scripts
            print("." if announced else f"Waiting for {what}", end="", file=sys.stderr, flush=True)
            announced = True
        time.sleep(interval)


def error_text(error: Any) -> str:
    """The message of an `error` field, whether a string or `{"message": ...}`."""
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or error)
    return str(error) if error else "no reason given"


def with_name(sets: list[str] | None, **overrides: Any) -> list[str]:
    """`--set` values plus `k=v` for each flag that overrides a spec field (`-n`, `-v`...)."""
    result = list(sets or [])
    result += [f"{k}={v}" for k, v in overrides.items() if v is not None]
    return result
