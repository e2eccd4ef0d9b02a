"""`mlcycle compute ...`: create and read compute pools (amlCompute)."""
from __future__ import annotations

import argparse
from typing import Any

from shared.cli import bundle, submit
from shared.cli.client import Client, quote
from shared.cli.errors import CliError
from shared.cli.output import emit

SCHEMA = "https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json"
COLUMNS = ("name", "type", "size", "min_instances", "max_instances", "tier",
           "current_nodes", "target_nodes", "idle_nodes")


def create(args: argparse.Namespace, client: Client) -> int:
    """Create or update a compute pool from -f or flags."""
    if args.file:
        sets = submit.with_name(args.set, name=args.name)
        compute = submit.submit_file(client, "/api/computes", args.file, sets)
    else:
        if not args.name or not args.type:
            raise CliError("give -f FILE, or --name and --type")
        data, spec_path = bundle.bundle_generated_spec(compute_spec(args))
        compute = submit.submit_bundle(client, "/api/computes", data, spec_path, args.set or [])
    emit(compute, args.output, COLUMNS)
    return 0


def show(args: argparse.Namespace, client: Client) -> int:
    """Print one compute pool."""
    emit(client.json("GET", f"/api/computes/{quote(args.name)}"), args.output, COLUMNS)
    return 0


def list_(args: argparse.Namespace, client: Client) -> int:
    """Print the compute pools."""
    result = client.json("GET", "/api/computes")
    emit(result.get("value", []) if isinstance(result, dict) else result, args.output, COLUMNS)
    return 0


def compute_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The amlCompute YAML that `az ml compute create` would build from the same flags."""
    spec = {
        "$schema": SCHEMA,
        "name": args.name,
        "type": args.type.lower(),
        "size": args.size,
        "min_instances": args.min_instances,
        "max_instances": args.max_instances,
        "idle_time_before_scale_down": args.idle_time_before_scale_down,
        "tier": args.tier,
        "description": args.description,
    }
    return {k: v for k, v in spec.items() if v is not None}
