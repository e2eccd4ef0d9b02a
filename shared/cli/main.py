"""`mlcycle`: argument parsing and dispatch, with `az ml`'s command names and flags."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

from shared.cli import assets, computes, endpoints, environments, jobs, ops
from shared.cli.errors import CliError
from shared.cli.output import FORMATS

Handler = Callable[..., int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `mlcycle` command; returns the process exit code (2 for usage errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else 2
    try:
        client = _client() if args.needs_client else None
        return args.handler(args, client)
    except CliError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:  # `mlcycle job list | head`: the reader left; nothing to say
        sys.stdout = open(os.devnull, "w")
    except Exception as exc:  # noqa: BLE001 - the CLI promises one line, never a traceback
        if os.environ.get("MLCYCLE_DEBUG"):
            raise
        _fail(f"unexpected error: {type(exc).__name__}: {exc} (set MLCYCLE_DEBUG=1 for details)")
    return 1


def _client():
    from shared.cli.client import Client, load_config

    return Client(load_config())


def _fail(message: str) -> None:
    print(f"mlcycle: {message}", file=sys.stderr, flush=True)


def set_pair(value: str) -> str:
    """argparse type of `--set` and `--tags`: a `key=value` string."""
    if "=" not in value or value.startswith("="):
        raise argparse.ArgumentTypeError(f"expected key=value, got {value!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(
        prog="mlcycle", description="mlcycle: the Azure ML training workflow, self-hosted.")
    groups = parser.add_subparsers(dest="group", metavar="<group>", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-o", "--output", choices=FORMATS, default="json",
                        help="output format (default: json)")
    _jobs(groups, common)
    _data(groups, common)
    _model(groups, common)
    _compute(groups, common)
    _environment(groups, common)
    _endpoint(groups, common)
    _deployment(groups, common)
    _dead_letter(groups, common)
    _local(groups)
    return parser


def _group(groups, name: str, help_: str):
    return groups.add_parser(name, help=help_).add_subparsers(
        dest="command", metavar="<command>", required=True)


def _command(commands, name: str, handler: Handler, common, help_: str, needs_client=True):
    parser = commands.add_parser(name, parents=[common] if common else [], help=help_)
    parser.set_defaults(handler=handler, needs_client=needs_client)
    return parser


def _file(parser, required: bool = True) -> None:
    parser.add_argument("-f", "--file", required=required, help="Azure ML v2 YAML spec")
    parser.add_argument("--set", action="append", type=set_pair, metavar="KEY=VALUE",
                        help="override a spec field (repeatable)")


def _jobs(groups, common) -> None:
    cmds = _group(groups, "job", "training runs")
    p = _command(cmds, "create", jobs.create, common, "submit a job spec")
    _file(p)
    p.add_argument("-n", "--name", help="the run's name (id)")
    p.add_argument("-s", "--stream", action="store_true", help="stream the logs until it ends")
    _command(cmds, "show", jobs.show, common, "show a run").add_argument("-n", "--name", required=True)
    p = _command(cmds, "list", jobs.list_, common, "list runs, newest first")
    p.add_argument("-r", "--max-results", type=int, help="at most this many")
    p.add_argument("-p", "--parent-job-name", help="only the trials of this sweep")
    for name, handler, help_ in (("stream", jobs.stream, "stream a run's logs"),
                                 ("cancel", jobs.cancel, "cancel a run")):
        _command(cmds, name, handler, common, help_).add_argument("-n", "--name", required=True)
    p = _command(cmds, "download", jobs.download, common, "download a run's files")
    p.add_argument("-n", "--name", required=True)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every file, logs included")
    which.add_argument("--output-name", help="one named output")
    p.add_argument("-p", "--download-path", default=".", help="folder to write to (default: .)")


def _asset_commands(cmds, common, create, show, list_, noun: str, path_help: str):
    p = _command(cmds, "create", create, common, f"register a {noun} version")
    _file(p, required=False)
    p.add_argument("-n", "--name")
    p.add_argument("-v", "--version")
    p.add_argument("-p", "--path", help=f"{path_help} (instead of -f)")
    p.add_argument("-d", "--description")
    s = _command(cmds, "show", show, common, f"show a {noun} version")
    s.add_argument("-n", "--name", required=True)
    which = s.add_mutually_exclusive_group(required=True)
    which.add_argument("-v", "--version")
    which.add_argument("-l", "--label", choices=["latest"])
    _command(cmds, "list", list_, common, f"list {noun} versions").add_argument("-n", "--name")
    return p


def _data(groups, common) -> None:
    cmds = _group(groups, "data", "data assets")
    p = _asset_commands(cmds, common, assets.data_create, assets.data_show, assets.data_list,
                        "data", "a local file or folder, a file:// URL, or a datastore path "
                        "azureml://datastores/workspaceblobstore/paths/<path> (web URLs are "
                        "not fetched: download first)")
    p.add_argument("-t", "--type", choices=["uri_file", "uri_folder", "mltable"])


def _model(groups, common) -> None:
    cmds = _group(groups, "model", "models")
    p = _asset_commands(cmds, common, assets.model_create, assets.model_show, assets.model_list,
                        "model", "a local file or folder, a file:// URL, or a job's files "
                        "azureml://jobs/<run>/outputs/artifacts/paths/outputs/<path> (what the "
                        "run wrote to ./outputs/<path>), azureml://jobs/<run>/outputs/<name>/"
                        "paths/<path> (a named output)")
    p.add_argument("-t", "--type", help="custom_model (default), mlflow_model, triton_model")
    p.add_argument("--tags", nargs="+", action="extend", type=set_pair, metavar="KEY=VALUE")
    d = _command(cmds, "download", assets.model_download, common,
                 "download a model version's files")
    d.add_argument("-n", "--name", required=True)
    d.add_argument("-v", "--version", required=True, help="a version, or latest")
    d.add_argument("-p", "--download-path", default=".", help="files go to PATH/<name>/")


def _compute(groups, common) -> None:
    cmds = _group(groups, "compute", "compute pools")
    p = _command(cmds, "create", computes.create, common, "create or update a compute pool")
    _file(p, required=False)
    p.add_argument("-n", "--name")
    p.add_argument("-t", "--type", help="amlcompute")
    p.add_argument("--size", help="VM size, e.g. Standard_NC6s_v3")
    p.add_argument("--min-instances", type=int)
    p.add_argument("--max-instances", type=int)
    p.add_argument("--idle-time-before-scale-down", type=int, metavar="SECONDS")
    p.add_argument("--tier", choices=["dedicated", "low_priority"])
    p.add_argument("-d", "--description")
    _command(cmds, "show", computes.show, common, "show a compute pool").add_argument(
        "-n", "--name", required=True)
    _command(cmds, "list", computes.list_, common, "list compute pools")


def _environment(groups, common) -> None:
    cmds = _group(groups, "environment", "environments jobs run on")
    p = _command(cmds, "create", environments.create, common,
                 "register an environment version (image, conda_file)")
    _file(p)
    p.add_argument("-n", "--name")
    p.add_argument("-v", "--version")
    s = _command(cmds, "show", environments.show, common, "show an environment version")
    s.add_argument("-n", "--name", required=True)
    which = s.add_mutually_exclusive_group()
    which.add_argument("-v", "--version", help="the version (default: the latest)")
    which.add_argument("-l", "--label", choices=["latest"])
    _command(cmds, "list", environments.list_, common,
             "list environment versions").add_argument("-n", "--name")


def _endpoint(groups, common) -> None:
    cmds = _group(groups, "online-endpoint", "online endpoints")
    p = _command(cmds, "create", endpoints.endpoint_create, common, "create an endpoint")
    _file(p)
    p.add_argument("-n", "--name")
    _command(cmds, "show", endpoints.endpoint_show, common, "show an endpoint").add_argument(
        "-n", "--name", required=True)
    _command(cmds, "list", endpoints.endpoint_list, common, "list endpoints")
    p = _command(cmds, "invoke", endpoints.endpoint_invoke, common, "score a request")
    p.add_argument("-n", "--name", required=True)
    p.add_argument("-r", "--request-file", required=True)
    p.add_argument("-d", "--deployment-name")


def _deployment(groups, common) -> None:
    cmds = _group(groups, "online-deployment", "deployments of online endpoints")
    p = _command(cmds, "create", endpoints.deployment_create, common, "create a deployment")
    _file(p)
    p.add_argument("-n", "--name")
    p.add_argument("-e", "--endpoint-name")
    p.add_argument("--all-traffic", action="store_true", help="send all traffic to it")
    p.add_argument("--no-wait", action="store_true", help="do not wait for it to settle")


def _dead_letter(groups, common) -> None:
    cmds = _group(groups, "dead-letter", "messages a queue gave up on")
    p = _command(cmds, "list", ops.dead_letter_list, common, "list a queue's dead letters")
    p.add_argument("--queue", required=True)
    p = _command(cmds, "replay", ops.dead_letter_replay, common,
                 "send dead letters back to their queue")
    p.add_argument("--queue", required=True)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", help="the dead-lettered message's id")
    which.add_argument("--all", action="store_true", help="every dead letter of the queue")


def _local(groups) -> None:
    p = groups.add_parser("up", help="serve the API and run the handlers on this machine")
    p.set_defaults(handler=ops.up, needs_client=False)
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int)
    p.add_argument("--data-root")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a --host that is not a loopback address")
    p = groups.add_parser("demo", help="run the end-to-end demo on a local host")
    p.set_defaults(handler=ops.demo, needs_client=False)
    p.add_argument("--data-root")
    p.add_argument("--port", type=int)
