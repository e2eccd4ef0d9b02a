"""Running mlcycle on this machine (`up`, `demo`) and looking at what failed (`dead-letter`)."""
from __future__ import annotations

import argparse
from typing import Any

from shared.cli.client import Client, quote
from shared.cli.errors import CliError
from shared.cli.output import emit


def up(args: argparse.Namespace, client: Client | None = None) -> int:
    """Serve the API and run the handlers locally until Ctrl-C."""
    try:
        from shared.localhost.host import serve  # heavy: only `up` pays for it
    except ImportError as exc:
        raise CliError(f"the local host is not available: {exc}") from None
    options = _given(host=args.host, port=args.port, data_root=args.data_root,
                     allow_remote=args.allow_remote or None)
    try:
        return int(serve(**options) or 0)
    except KeyboardInterrupt:  # Ctrl-C is how `up` is meant to stop
        return 0
    except ValueError as exc:  # the host refuses options it finds unsafe, e.g. a public address
        raise CliError(str(exc)) from None
    except OSError as exc:  # typically the port is taken
        raise CliError(f"cannot serve on {args.host}:{args.port or 'default port'}: "
                       f"{exc.strerror or exc}") from None


def demo(args: argparse.Namespace, client: Client | None = None) -> int:
    """Run the end-to-end demo on a local host; its exit code is ours."""
    import importlib

    try:
        demo_module = importlib.import_module("shared.demo")
    except ImportError as exc:
        raise CliError(f"the demo is not available: {exc}") from None
    return int(demo_module.main(**_given(data_root=args.data_root, port=args.port)) or 0)


def dead_letter_list(args: argparse.Namespace, client: Client) -> int:
    """Print the messages a queue dead-lettered, with their reasons."""
    result = client.json("GET", f"/api/dead-letters/{quote(args.queue)}")
    emit(result.get("value", []) if isinstance(result, dict) else result, args.output)
    return 0


def dead_letter_replay(args: argparse.Namespace, client: Client) -> int:
    """Send dead letters back to their queue (after fixing what made them fail): one by
    --id, or every one the queue holds with --all. Prints what was replayed."""
    queue = quote(args.queue)
    if args.all:
        ids = [m["id"] for m in client.json("GET", f"/api/dead-letters/{queue}")["value"]]
    else:
        ids = [args.id]
    replayed = [client.json("POST", f"/api/dead-letters/{queue}/{quote(i)}/replay")
                for i in dict.fromkeys(ids)]  # one replay per id, in listed order
    emit(replayed, args.output)
    return 0


def _given(**options: Any) -> dict[str, Any]:
    # Options left out keep the callee's own defaults.
    return {k: v for k, v in options.items() if v is not None}
