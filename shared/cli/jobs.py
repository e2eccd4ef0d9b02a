"""`mlcycle job ...`: submit, inspect, stream, cancel and download runs."""
from __future__ import annotations

import argparse
import codecs
import os
import sys
import time
from pathlib import Path

from shared.cli import submit
from shared.cli.client import Client, quote
from shared.cli.errors import CliError
from shared.cli.output import emit
from shared.studio.links import run_url

TERMINAL = ("Completed", "Failed", "Canceled")
POLL_INTERVAL_S = 0.5
COLUMNS = ("name", "display_name", "experiment_name", "status", "compute", "start_time")
TRIAL_COLUMNS = ("name", "status", "metric", "hyperparameters", "reason")


def create(args: argparse.Namespace, client: Client) -> int:
    """Upload the spec's bundle and submit the run; with --stream, follow it to the end."""
    sets = submit.with_name(args.set, name=args.name)
    run = with_studio(submit.submit_file(client, "/api/jobs", args.file, sets), client)
    if not args.stream:
        emit(run, args.output, COLUMNS)
        return 0
    print(f"RunId: {run['name']}\nWeb View: {run['services']['Studio']['endpoint']}\n"
          "Streaming logs (Ctrl-C stops streaming; the run goes on)\n",
          file=sys.stderr, flush=True)
    return stream_logs(client, run["name"])


def show(args: argparse.Namespace, client: Client) -> int:
    """Print one run; as a table, a sweep's trials follow it."""
    run = with_studio(client.json("GET", f"/api/jobs/{quote(args.name)}"), client)
    emit(run, args.output, COLUMNS)
    if args.output == "table" and run.get("type") == "sweep":
        print(f"\nTrials (best: {run.get('best_child_run_id') or 'none yet'})")
        emit(run.get("trials") or [], "table", TRIAL_COLUMNS)
    return 0


def with_studio(run: dict, client: Client) -> dict:
    """The run with its studio page, where az ml puts it (services.Studio.endpoint)."""
    studio = {"Studio": {"endpoint": run_url(client.config.endpoint, run["name"])}}
    return {**run, "services": {**(run.get("services") or {}), **studio}}


def list_(args: argparse.Namespace, client: Client) -> int:
    """Print the runs, newest first (with --parent-job-name, a sweep's trials)."""
    runs = client.json("GET", "/api/jobs").get("value", [])
    if args.parent_job_name:
        runs = [r for r in runs if r.get("parent") == args.parent_job_name]
    if args.max_results:
        runs = runs[: args.max_results]
    emit(runs, args.output, COLUMNS)
    return 0


def cancel(args: argparse.Namespace, client: Client) -> int:
    """Ask for a run to be canceled and print it."""
    emit(client.json("POST", f"/api/jobs/{quote(args.name)}/cancel"), args.output, COLUMNS)
    return 0


def stream(args: argparse.Namespace, client: Client) -> int:
    """Follow a run's rank-0 log until it ends."""
    return stream_logs(client, args.name)


def stream_logs(client: Client, run_id: str) -> int:
    """Write the run's log to stdout as it grows; then its status. 0 if it Completed, else 1."""
    route = f"/api/jobs/{quote(run_id)}/logs"
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    offset = 0
    while True:
        resp = client.request("GET", f"{route}?rank=0&offset={offset}", headers={"Accept": "text/plain"})
        status = resp.headers.get("x-run-status", "")
        if resp.body:
            sys.stdout.write(decoder.decode(resp.body))
            sys.stdout.flush()
        offset = int(resp.headers.get("x-next-offset") or offset + len(resp.body))
        if status in TERMINAL and not resp.body:
            break
        if not resp.body:  # caught up: wait for more; while behind, read on at once
            time.sleep(POLL_INTERVAL_S)
    sys.stdout.write(decoder.decode(b"", final=True))
    print(f"\nRunId: {run_id}\nStatus: {status}")
    if status == "Failed":
        run = client.json("GET", f"/api/jobs/{quote(run_id)}")
        print(f"Error: {submit.error_text(run.get('error'))}")
    sys.stdout.flush()
    return 0 if status == "Completed" else 1


def download(args: argparse.Namespace, client: Client) -> int:
    """Fetch a run's files into --download-path: its outputs, one named output, or --all."""
    route = f"/api/jobs/{quote(args.name)}/files"
    files = client.json("GET", route).get("value", [])
    if args.output_name:
        prefix = f"named_outputs/{args.output_name}/"
        chosen = [f for f in files if f.startswith(prefix)]
        if not chosen:
            raise CliError(f"job {args.name} has no files in output {args.output_name!r}")
    else:
        chosen = files if args.all else [f for f in files if f.startswith("outputs/")]
    target = fetch_files(client, route, chosen, Path(args.download_path))
    print(f"Downloaded {len(chosen)} file(s) of job {args.name} to {target}", file=sys.stderr)
    return 0


def fetch_files(client: Client, route: str, paths: list[str], folder: Path) -> Path:
    """GET <route>/<path> for each path into folder (resolved, returned)."""
    target = folder.resolve()
    for path in paths:
        dest = (target / path).resolve()
        # A listing must not write outside the download folder.
        if os.path.commonpath([target, dest]) != str(target):
            raise CliError(f"refusing to write {path!r} outside {target}")
        data = client.request("GET", f"{route}/{quote_path(path)}", headers={"Accept": "*/*"}).body
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    return target


def quote_path(path: str) -> str:
    """A file path inside a route: each segment escaped, the slashes kept."""
    return "/".join(quote(part) for part in path.split("/"))
