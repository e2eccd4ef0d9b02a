"""The node side of BatchCompute: what a Batch task's command lines run.

    python <stage>/mlcycle.zip run --stage <dir> --node <dir> [--results <dir>] [--upload]
    python <stage>/mlcycle.zip coordinate --stage <dir> --node <dir>

The zip is mlcycle's own code (batch_package.py); Batch downloads it into the stage
folder with the rest of the task's resource files: plan.json, snapshot.tar.gz and
inputs/<name>/. Running the zip as a script keeps it off PYTHONPATH, so the user's
processes never import mlcycle's `shared` in place of their own.

`run` stages the node folder, runs the node bootstrap (`shared.runner.node`) in the
foreground and exits with the run's exit code, so that the Batch task's exit code is
the user's. It is a single-node task's command, and the application command of a
multi-instance task, which Batch runs on the primary (the master, node 0) only.

`coordinate` is a multi-instance task's coordination command. Batch runs it on every
node and starts the application command only once it has returned everywhere, so it must
not wait for training: on the other nodes it stages and starts `run --upload` in the
background (their processes then wait for the master's); on the master it does nothing.

Only the standard library and shared.runner are used: a node has nothing else.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath

from shared.domain.errors import MlcycleError
from shared.runner.collected import collectable
from shared.runner.distribution import RANK_STORES
from shared.runner.environments import EnvironmentPlan
from shared.runner.node import now, write_json_atomic
from shared.runner.plan import plan_from_json, ports_of
from shared.runner.snapshot import extract_snapshot
from shared.runner.topology import batch_topology
from shared.runner.venvs import ensure_venv, interpreter_of

KILL_GRACE_S = 10.0
UPLOAD_URL = "MLCYCLE_UPLOAD_URL"  # write-only SAS of the runs container (other nodes)
ENV_HASH, ENV_PIP = "MLCYCLE_ENV_HASH", "MLCYCLE_ENV_PIP"  # a venv environment's key, pip
# The bootstrap runs with the zip first on its path, given as its first argument.
_LAUNCH = ("import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); "
           "runpy.run_module('shared.runner.node', run_name='__main__', alter_sys=True)")


def main(argv: list[str], package: str) -> int:
    parser = argparse.ArgumentParser(prog="mlcycle.zip")
    parser.add_argument("command", choices=("run", "coordinate"))
    parser.add_argument("--stage", type=Path, required=True)
    parser.add_argument("--node", type=Path, required=True)
    parser.add_argument("--results", type=Path)
    parser.add_argument("--upload", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "coordinate":
        return coordinate(args.stage, args.node, package, os.environ)
    return run(args.stage, args.node, package, os.environ, results=args.results,
               upload=args.upload)


def coordinate(stage: Path, node_dir: Path, package: str, environ) -> int:
    """On a node other than the master: stage it and start its processes in the
    background. Returns at once, as Batch needs before it starts the application."""
    if environ.get("AZ_BATCH_IS_CURRENT_NODE_MASTER") == "true":
        return 0
    node_dir.mkdir(parents=True, exist_ok=True)
    with open(node_dir / "runner_log.txt", "ab") as log:
        subprocess.Popen(
            [sys.executable, package, "run", "--stage", str(stage), "--node", str(node_dir),
             "--upload"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    return 0


def run(stage: Path, node_dir: Path, package: str, environ, *, results: Path | None = None,
        upload: bool = False) -> int:
    """Stage the node, run its bootstrap, and return the run's exit code.

    results: where the primary's node folder must end up for the task's output files
        (a multi-instance task's node folder lies in the task's shared folder, which
        must have the same path on every node for mpirun; output files are read from
        the working folder). Until then a link there points at the node folder.
    upload: send this node's logs and exit.json to the runs container (the nodes other
        than the primary, whose files Batch's output files do not cover).
    """
    env = dict(environ)
    node_dir.mkdir(parents=True, exist_ok=True)
    if results is not None and not results.exists():
        results.parent.mkdir(parents=True, exist_ok=True)
        results.symlink_to(node_dir.resolve(), target_is_directory=True)
    run_id, index = "", 0
    try:
        stage_node(stage, node_dir)
        plan = plan_from_json((node_dir / "plan.json").read_text())
        run_id = plan.run_id
        if len(plan.nodes) > 1:
            env["MLCYCLE_NODE_ADDRESS"] = own_address(env)
            index = batch_topology(env, node_count=len(plan.nodes), port_count=ports_of(plan),
                                   own_address=env["MLCYCLE_NODE_ADDRESS"]).index
        code = bootstrap(interpreter(env, stage), package, node_dir, env)
    except (MlcycleError, OSError) as exc:
        code = fail_before_start(node_dir, f"mlcycle: the node could not start: {exc}")
    if upload and run_id and env.get(UPLOAD_URL):
        upload_node_files(node_dir, env[UPLOAD_URL], run_id, index)
    if results is not None and results.is_symlink():
        results.unlink()
        shutil.move(str(node_dir), str(results))
        node_dir = results
    return exit_code(node_dir, code)


def stage_node(stage: Path, node_dir: Path) -> None:
    """Fill the node folder from the stage folder, once: the code, the inputs where the
    plan's ${MLCYCLE_NODE_DIR}/inputs/<name> expects them, plan.json and node.json."""
    if (node_dir / "node.json").exists():
        return
    plan = plan_from_json((stage / "plan.json").read_text())
    extract_snapshot((stage / "snapshot.tar.gz").read_bytes(), node_dir / "code")
    for name, spec in plan.inputs.items():
        source = stage / "inputs" / name
        if spec["mode"] == "folder":
            # Batch keeps a blob's whole name below the resource file's folder.
            source = source.joinpath(*PurePosixPath(spec["blob"]).parts[1:])
        target = node_dir / "inputs" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.exists() and not target.exists():
            shutil.move(str(source), str(target))
        target.mkdir(exist_ok=True)  # an empty folder has no blobs to download
    shutil.copy(stage / "plan.json", node_dir / "plan.json")
    write_json_atomic(node_dir / "node.json", {"index": 0, "bus_path": "",
                                               "kill_grace_s": KILL_GRACE_S})


def own_address(environ) -> str:
    """This node's address as AZ_BATCH_HOST_LIST spells it: the one that can be bound
    here. (The host name may resolve to a loopback address, which no peer can reach.)"""
    if environ.get("MLCYCLE_NODE_ADDRESS"):
        return environ["MLCYCLE_NODE_ADDRESS"]
    for host in filter(None, environ.get("AZ_BATCH_HOST_LIST", "").split(",")):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, 0))
            except OSError:
                continue
            return host
    raise OSError(f"none of AZ_BATCH_HOST_LIST {environ.get('AZ_BATCH_HOST_LIST')!r} "
                  "is an address of this node")


def interpreter(environ, stage: Path) -> str:
    """The python the run's processes get: a venv built on this node from the run's pip
    requirements (once per node and specification), or the one running this."""
    key = environ.get(ENV_HASH)
    if not key:
        return sys.executable
    pip = tuple(json.loads(environ.get(ENV_PIP) or "[]"))
    cache = Path(environ.get("AZ_BATCH_NODE_SHARED_DIR") or stage.parent) / "mlcycle-envs"
    return str(interpreter_of(ensure_venv(EnvironmentPlan("venv", pip, key), cache)))


def bootstrap(python: str, package: str, node_dir: Path, env: dict) -> int:
    """Run the node bootstrap to its end. A SIGTERM (Batch terminating the task) is
    passed on, so the bootstrap stops the processes and still writes exit.json."""
    with open(node_dir / "node_log.txt", "ab") as log:
        child = subprocess.Popen([python, "-c", _LAUNCH, package, str(node_dir)],
                                 env=env, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: child.terminate())
    try:
        return child.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_code(node_dir: Path, bootstrap_code: int) -> int:
    """The run's exit code from exit.json; 1 where it has none (a cancel or timeout
    before any process ended badly, or a bootstrap that died)."""
    try:
        code = json.loads((node_dir / "exit.json").read_text()).get("exit_code")
    except (OSError, ValueError):
        code = None
    if code is None:
        return bootstrap_code or 1
    return code


def fail_before_start(node_dir: Path, message: str) -> int:
    """Say why in rank 0's log, which run history shows, and leave an exit.json."""
    print(message, file=sys.stderr)
    logs = node_dir / "user_logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "std_log_process_0.txt", "a") as log:
        log.write(message + "\n")
    at = now()
    write_json_atomic(node_dir / "exit.json", {"exit_code": 1, "failed_rank": None,
                                               "reason": "", "failed_at": at,
                                               "started_at": at, "ended_at": at})
    return 1


def upload_node_files(node_dir: Path, container_url: str, run_id: str, index: int) -> None:
    """Put this node's process logs, rank MLflow stores, bootstrap log and exit.json into
    runs/<run_id>/, as Batch's output files do for the primary. Outputs stay: run
    history keeps the master's, as Azure ML advises saving from rank 0."""
    # Links out of the node folder were removed by the bootstrap; one left since (a
    # straggler's) is skipped, never followed.
    pairs = [(path, f"{sub}/{name}") for sub in ("user_logs", RANK_STORES)
             for path, name in collectable(node_dir / sub, node_dir)[0]]
    pairs += [(node_dir / "node_log.txt", f"system_logs/node-{index}.txt"),
              (node_dir / "exit.json", f"system_logs/node-{index}.exit.json")]
    base, _, token = container_url.partition("?")
    for path, name in pairs:
        if not path.is_file():
            continue
        blob = urllib.parse.quote(f"{run_id}/{name}")
        request = urllib.request.Request(
            f"{base}/{blob}?{token}", data=path.read_bytes(), method="PUT",
            headers={"x-ms-blob-type": "BlockBlob", "x-ms-version": "2021-08-06"})
        with urllib.request.urlopen(request, timeout=60):
            pass
