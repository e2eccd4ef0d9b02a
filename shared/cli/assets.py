"""`mlcycle data ...` and `mlcycle model ...`: register and read versioned assets."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from shared.cli import bundle, submit
from shared.cli.client import Client, quote
from shared.cli.errors import CliError
from shared.cli.output import emit

POLL_INTERVAL_S = 0.3
WAIT_TIMEOUT_S = 300.0
SCHEMA = "https://azuremlschemas.azureedge.net/latest/{}.schema.json"
DATA_COLUMNS = ("name", "version", "type", "state", "path", "created_at")
MODEL_COLUMNS = ("name", "version", "type", "state", "framework", "job_name", "created_at")


def data_create(args: argparse.Namespace, client: Client) -> int:
    """Register a data version from -f or flags and wait for it to settle."""
    return _create(args, client, "data", _data_spec, DATA_COLUMNS)


def model_create(args: argparse.Namespace, client: Client) -> int:
    """Register a model version from -f or flags and wait for it to settle."""
    return _create(args, client, "models", _model_spec, MODEL_COLUMNS)


def data_show(args: argparse.Namespace, client: Client) -> int:
    """Print one data version (`--label latest` for the newest)."""
    return _show(args, client, "data", DATA_COLUMNS)


def model_show(args: argparse.Namespace, client: Client) -> int:
    """Print one model version (`--label latest` for the newest)."""
    return _show(args, client, "models", MODEL_COLUMNS)


def data_list(args: argparse.Namespace, client: Client) -> int:
    """Print data versions, all names or the versions of one."""
    return _list(args, client, "data", DATA_COLUMNS)


def model_list(args: argparse.Namespace, client: Client) -> int:
    """Print model versions, all names or the versions of one."""
    return _list(args, client, "models", MODEL_COLUMNS)


def _create(args: argparse.Namespace, client: Client, kind: str, from_flags, columns) -> int:
    route = f"/api/{kind}"
    if args.file:
        sets = submit.with_name(args.set, name=args.name, version=args.version)
        created = submit.submit_file(client, route, args.file, sets)
    else:
        if not args.name or not args.path:
            raise CliError("give -f FILE, or --name and --path")
        data, spec_path = bundle.bundle_generated_spec(from_flags(args))
        created = submit.submit_bundle(client, route, data, spec_path, args.set or [])
    name, version = created["name"], created["version"]
    final = submit.wait_for(
        lambda: client.json("GET", f"{route}/{quote(name)}/versions/{quote(version)}"),
        lambda asset: asset.get("state") != "Registering",
        what=f"{kind} {name}:{version} to register",
        interval=POLL_INTERVAL_S, timeout=WAIT_TIMEOUT_S,
    )
    emit(final, args.output, columns)
    if final.get("state") == "Failed":
        raise CliError(f"{name}:{version} failed: {submit.error_text(final.get('error'))}")
    if final.get("state") == "ConversionFailed":  # registered and usable, but no ONNX copy
        print(f"mlcycle: warning: {name}:{version} registered, ONNX conversion failed: "
              f"{submit.error_text(final.get('error'))}", file=sys.stderr)
    return 0


def _show(args: argparse.Namespace, client: Client, kind: str, columns) -> int:
    version = args.version or args.label
    emit(client.json("GET", f"/api/{kind}/{quote(args.name)}/versions/{quote(version)}"),
         args.output, columns)
    return 0


def _list(args: argparse.Namespace, client: Client, kind: str, columns) -> int:
    route = f"/api/{kind}" + (f"?name={quote(args.name)}" if args.name else "")
    items = client.json("GET", route).get("value", [])
    if args.name:  # the server may list every name; keep the one asked for
        items = [i for i in items if i.get("name") == args.name]
    emit(items, args.output, columns)
    return 0


def _data_spec(args: argparse.Namespace) -> dict[str, Any]:
    kind = args.type
    if kind is None:  # az ml assumes a folder; a single local file is clearly a uri_file
        local = not bundle.is_remote(args.path)
        kind = "uri_file" if local and os.path.isfile(bundle.local_path(args.path)) else "uri_folder"
    return _common(args, "data", type=kind)


def _model_spec(args: argparse.Namespace) -> dict[str, Any]:
    return _common(args, "model", type=args.type or "custom_model", tags=_tags(args.tags))


def _common(args: argparse.Namespace, schema: str, **fields: Any) -> dict[str, Any]:
    spec = {"$schema": SCHEMA.format(schema), "name": args.name, "version": args.version,
            "path": args.path, "description": args.description, **fields}
    return {k: v for k, v in spec.items() if v not in (None, {})}


def _tags(pairs: list[str] | None) -> dict[str, str]:
    tags = {}
    for pair in pairs or []:
        key, _, value = pair.partition("=")
        tags[key] = value
    return tags


def model_download(args: argparse.Namespace, client: Client) -> int:
    """Fetch a model version's files (`onnx/` included once converted) into
    <--download-path>/<name>/, as `az ml model download` does."""
    from pathlib import Path

    from shared.cli.jobs import fetch_files

    route = f"/api/models/{quote(args.name)}/versions/{quote(args.version)}/files"
    listing = client.json("GET", route)
    files = listing.get("value", [])
    target = fetch_files(client, route, files, Path(args.download_path) / args.name)
    print(f"Downloaded {len(files)} file(s) of model {listing.get('name', args.name)}:"
          f"{listing.get('version', args.version)} to {target}", file=sys.stderr)
    return 0
