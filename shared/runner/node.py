"""The node bootstrap: runs one node's share of a launch plan and reports how it ended.

    python -m shared.runner.node <node_dir>

<node_dir> holds plan.json, node.json ({"index", "bus_path", "kill_grace_s", and, from
the local compute, "hosts" and "ports": the run's topology}) and the staged code/ and
inputs/. Without "hosts", an Azure Batch multi-instance task's variables give the
topology (see topology.batch_topology); a single node needs neither. The bootstrap
writes started.json, runs each process of its node with `bash -c` in code/, stops them
all when one fails, when the plan's timeout passes or when it receives SIGTERM (a
cancel), and writes exit.json:

    {"exit_code", "failed_rank", "reason", "failed_at", "started_at", "ended_at",
     "refused_links"}

Exit codes follow the shell's convention: a process killed by signal N reports 128+N.
exit_code is 0 on success, the failed process's code on failure, and for a cancel or a
timeout the code of the lowest rank that did not end with 0 (None if none had started).
failed_rank names the process that failed on its own (for mpirun, the MPI rank that
failed first); it is None for cancels and timeouts, and failed_at says when the failure
was seen. refused_links names the links of outputs and logs that led out of the node
folder, removed before anything uploads them (see collected.py). JobStarted and
CompleteJob go to the SQLite bus when node.json names one; their ids are derived from
the run id and the node index, so a re-sent notification is a duplicate and every node
of a run is heard.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from shared.domain.messages import CompleteJob, Envelope, JobStarted, Message
from shared.ports import LaunchPlan
from shared.runner.child_env import on_interpreter
from shared.runner.collected import refuse_outside_links
from shared.runner.distribution import RANK_EXITS
from shared.runner.plan import plan_from_json, ports_of
from shared.runner.processes import ProcessGroup
from shared.runner.topology import Topology, batch_topology, expand, local_topology

CANCEL_MARKER = "cancel"  # written by the compute, in case SIGTERM came before our handler
_TICK_S = 0.1


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def write_json_atomic(path: Path, body: dict) -> None:
    """Write through a temporary file and rename, so a reader never sees half of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(body))
    os.replace(tmp, path)


class _StopRequest:
    def __init__(self, node_dir: Path) -> None:
        self.marker = node_dir / CANCEL_MARKER
        self.signalled = False

    def on_signal(self, signum: int, frame: object) -> None:
        self.signalled = True

    @property
    def canceled(self) -> bool:
        return self.signalled or self.marker.exists()


def main(argv: list[str] | None = None) -> int:
    """Run the node whose folder is argv[0]; returns the bootstrap's own exit status."""
    args = sys.argv[1:] if argv is None else argv
    node_dir = Path(args[0]).resolve()
    stop = _StopRequest(node_dir)
    # First thing: a SIGTERM from now on is a cancel, not a silent death.
    signal.signal(signal.SIGTERM, stop.on_signal)
    signal.signal(signal.SIGINT, stop.on_signal)
    plan = plan_from_json((node_dir / "plan.json").read_text())
    node = json.loads((node_dir / "node.json").read_text())
    topology = node_topology(node, plan, os.environ)
    os.environ["MLCYCLE_NODE_DIR"] = str(node_dir)
    prepare_folders(node_dir, plan)

    started_at = now()
    write_json_atomic(node_dir / "started.json", {"started_at": started_at, "pid": os.getpid()})
    bus_path = node.get("bus_path") or ""
    notify(bus_path, JobStarted(plan.run_id, started_at), f"{plan.run_id}-started")

    outcome = run_node(node_dir, plan, topology, stop, float(node.get("kill_grace_s", 5.0)))
    # The processes are gone: links they left that lead out of the folder go too.
    refused = refuse_outside_links(node_dir)
    write_json_atomic(node_dir / "exit.json", {**outcome, "refused_links": refused,
                                               "started_at": started_at, "ended_at": now()})
    notify(bus_path, CompleteJob(plan.run_id), f"{plan.run_id}-complete-{topology.index}")
    return 0


def node_topology(node: dict, plan: LaunchPlan, environ: Mapping[str, str]) -> Topology:
    """This node's view of the run: node.json's hosts and ports where the compute wrote
    them, else an Azure Batch multi-instance task's, else a lone node on 127.0.0.1."""
    index = int(node.get("index", 0))
    if "hosts" in node:
        return Topology(tuple(node["hosts"]), tuple(node.get("ports", ())), index)
    if len(plan.nodes) > 1:
        own = environ.get("MLCYCLE_NODE_ADDRESS") or socket.gethostbyname(socket.gethostname())
        return batch_topology(environ, node_count=len(plan.nodes), port_count=ports_of(plan),
                              own_address=own)
    return replace(local_topology(1, ports_of(plan)), index=index)


def prepare_folders(node_dir: Path, plan: LaunchPlan) -> None:
    """The folders a run may write to exist before its code starts, as on Azure ML."""
    for sub in ("code/outputs", "code/logs", "user_logs", "mlruns"):
        (node_dir / sub).mkdir(parents=True, exist_ok=True)
    for name in plan.outputs:
        (node_dir / "named_outputs" / name).mkdir(parents=True, exist_ok=True)


def process_env(node_dir: Path, plan_env: dict, topology: Topology,
                interpreter: str | None = None) -> dict[str, str]:
    """The bootstrap's environment, the topology's variables, and the plan's on top with
    ${MLCYCLE_NODE_DIR}, ${MLCYCLE_HOST_<i>} and ${MLCYCLE_PORT_<n>} resolved.

    PATH starts with the folder of the run's interpreter (the bootstrap's own when the
    plan names none) so that `python` in a command is the environment's python.
    """
    variables = {**topology.variables(), "MLCYCLE_NODE_DIR": str(node_dir)}
    env = {**os.environ, **variables}
    env.update({k: expand(str(v), variables) for k, v in plan_env.items()})
    return on_interpreter(env, interpreter or sys.executable, venv=interpreter is not None)


def run_node(node_dir: Path, plan: LaunchPlan, topology: Topology, stop: _StopRequest,
             grace_s: float) -> dict:
    """Start the node's processes, supervise them, and say how they ended. A node with
    no processes (an MPI worker node: mpirun reaches it from the master) ends at once."""
    spec = next((n for n in plan.nodes if n.index == topology.index), None)
    if spec is None:
        raise SystemExit(f"plan of {plan.run_id} has no node {topology.index}")
    group = ProcessGroup(node_dir / "code", node_dir / "user_logs", grace_s)
    try:
        if stop.canceled:
            return {"exit_code": None, "failed_rank": None, "reason": "canceled"}
        for process in spec.processes:
            group.start(process.rank, process.command,
                        process_env(node_dir, process.env, topology, plan.interpreter))
        outcome = supervise(group, plan.timeout_s, stop)
    finally:
        # Whatever happened above, no process outlives its node.
        group.stop()
    return _named_rank(outcome, node_dir / RANK_EXITS)


def supervise(group: ProcessGroup, timeout_s: float | None, stop: _StopRequest) -> dict:
    """Wait for the processes; stop them all at the first failure, timeout or cancel."""
    deadline = time.monotonic() + timeout_s if timeout_s else None
    while True:
        reason = ""
        if stop.canceled:
            reason = "canceled"
        elif deadline is not None and time.monotonic() >= deadline:
            reason = "timeout"
        codes = group.poll()
        failed = next((r for r, c in sorted(codes.items()) if c not in (None, 0)), None)
        if reason or failed is not None or all(c == 0 for c in codes.values()):
            break
        time.sleep(_TICK_S)
    failed_at = now()
    group.stop()
    codes = group.poll()
    if reason:
        first_bad = next((c for _, c in sorted(codes.items()) if c not in (None, 0)), None)
        return {"exit_code": first_bad, "failed_rank": None, "reason": reason}
    if failed is not None:
        return {"exit_code": codes[failed], "failed_rank": failed, "reason": "",
                "failed_at": failed_at}
    return {"exit_code": 0, "failed_rank": None, "reason": ""}


def _named_rank(outcome: dict, rank_exits: Path) -> dict:
    """A failed launcher (mpirun) is blamed on the rank that failed first, as the ranks'
    wrappers recorded it: rank and exit code are the user's, not mpirun's."""
    if outcome["failed_rank"] is None or not rank_exits.is_dir():
        return outcome
    ended = []
    for path in rank_exits.iterdir():
        try:
            rank, code = int(path.name), int(path.read_text().strip())
            ended.append((path.stat().st_mtime_ns, rank, code))
        except (OSError, ValueError):
            continue  # half written by a rank killed mid-way
    failures = sorted(e for e in ended if e[2] != 0)
    if not failures:
        return outcome
    _, rank, code = failures[0]
    return {**outcome, "failed_rank": rank, "exit_code": code}


def notify(bus_path: str, message: Message, envelope_id: str) -> None:
    """Publish to the SQLite bus, if this node has one. A few bounded retries ride out a
    busy database; after that the error surfaces in node_log.txt and the compute's poll
    still tells the truth from exit.json."""
    if not bus_path:
        return
    from shared.adapters.sqlite_bus import SqliteBus  # only nodes that report need it

    run_id = getattr(message, "run_id", "")
    envelope = Envelope(message, id=envelope_id, correlation_id=run_id)
    for attempt in range(5):
        bus = SqliteBus(Path(bus_path))
        try:
            bus.publish(envelope)
            return
        except Exception:
            if attempt == 4:
                raise
            time.sleep(0.2 * 2 ** attempt)
        finally:
            bus.close()


if __name__ == "__main__":
    sys.exit(main())
