"""`mlcycle environment ...`: register and read environment versions."""
from __future__ import annotations

import argparse

from shared.cli import submit
from shared.cli.client import Client, quote
from shared.cli.output import emit

ROUTE = "/api/environments"
COLUMNS = ("name", "version", "kind", "image", "description", "created_at")


def create(args: argparse.Namespace, client: Client) -> int:
    """Register an environment version from -f (`-n`/`-v` override the spec's)."""
    sets = submit.with_name(args.set, name=args.name, version=args.version)
    created = submit.submit_file(client, ROUTE, args.file, sets)
    emit(created, args.output, COLUMNS)  # its warnings went to stderr as it came back
    return 0


def show(args: argparse.Namespace, client: Client) -> int:
    """Print one environment version (the newest without -v, or with `--label latest`)."""
    version = args.version or "latest"
    emit(client.json("GET", f"{ROUTE}/{quote(args.name)}/versions/{quote(version)}"),
         args.output, COLUMNS)
    return 0


def list_(args: argparse.Namespace, client: Client) -> int:
    """Print environment versions, of every name or of one."""
    route = ROUTE + (f"?name={quote(args.name)}" if args.name else "")
    items = client.json("GET", route).get("value", [])
    if args.name:  # the server may list every name; keep the one asked for
        items = [i for i in items if i.get("name") == args.name]
    emit(items, args.output, COLUMNS)
    return 0
