"""LocalCompute: the embedded twin of Azure Batch, each node a detached local process.

A run's nodes live in <work_root>/<run_id>/node-<index>/, each with its own working
directory, all on 127.0.0.1 with ports found free at submit (topology.json of the run,
handed to every node in its node.json). The node bootstrap (`python -m
shared.runner.node`) starts in its own session, so it survives the host process and a
restarted host adopts it from the files it leaves: pid.json while it is launched,
started.json once it runs, exit.json when it has ended, and alive.lock, locked for as long
as the bootstrap runs (the only sign of a node whose host died before writing pid.json).
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path, PurePosixPath

import shared
from shared.domain.errors import PermanentError
from shared.faults import pause_point
from shared.ports import BlobStore, LaunchPlan, NodeState
from shared.runner.node import CANCEL_MARKER, write_json_atomic
from shared.runner.outcome import combine, exited
from shared.runner.child_env import without_secrets
from shared.runner.collected import COLLECTED, collectable, refusal_warning
from shared.runner.live_metrics import read_store_folder
from shared.runner.plan import plan_to_json, ports_of
from shared.runner.snapshot import extract_snapshot
from shared.runner.topology import local_topology

_PROJECT_ROOT = Path(shared.__file__).resolve().parent.parent
ALIVE_LOCK = "alive.lock"  # locked by the node bootstrap for as long as it runs
_RUN_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")  # a run id names a folder


class LocalCompute:
    """Runs launch plans as local processes.

    Parameters:
        work_root: where node folders are created.
        blobs: the store snapshots and inputs are staged from (needed by submit).
        bus_path: the SQLite bus the nodes report JobStarted/CompleteJob to; None: silent.
        kill_grace_s: how long a stopped process gets between SIGTERM and SIGKILL.
    """

    builds_environments = False  # job-launch builds a run's venv on this machine

    def __init__(self, work_root: Path, *, blobs: BlobStore | None = None,
                 bus_path: Path | None = None, kill_grace_s: float = 5.0) -> None:
        self.work_root = Path(work_root)
        self.blobs = blobs
        self.bus_path = bus_path
        self.kill_grace_s = kill_grace_s
        self._children: dict[int, subprocess.Popen] = {}

    # --- launching ---------------------------------------------------------------------

    def submit(self, plan: LaunchPlan) -> None:
        """Stage and start every node of the plan; a node already launched is left alone.

        Raises: PermanentError without a blob store; NotFound for a missing snapshot or
            input (the half-staged node folder is removed, so a retry starts clean).
        """
        if self.blobs is None:
            raise PermanentError("LocalCompute needs a blob store to stage a plan")
        run_dir = self._run_dir(plan.run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        # Two deliveries of one launch message may race; the lock makes one of them wait
        # and then find the node launched.
        with open(run_dir / ".submit.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            topology = self._topology(plan, run_dir)
            for node in plan.nodes:
                self._submit_node(plan, node.index, run_dir / f"node-{node.index}", topology)

    @staticmethod
    def _topology(plan: LaunchPlan, run_dir: Path) -> dict:
        """The run's hosts and ports, chosen once: a node launched by an earlier submit
        already uses them."""
        known = _read_json(run_dir / "topology.json")
        if known is None:
            chosen = local_topology(len(plan.nodes), ports_of(plan))
            known = {"hosts": list(chosen.hosts), "ports": list(chosen.ports)}
            write_json_atomic(run_dir / "topology.json", known)
        return known

    def _submit_node(self, plan: LaunchPlan, index: int, node_dir: Path,
                     topology: dict) -> None:
        if (node_dir / "pid.json").exists() or (node_dir / "exit.json").exists():
            return
        if _held(node_dir / ALIVE_LOCK):
            return  # launched by a host that died before it could write pid.json
        if node_dir.exists():  # a submit that died while staging
            shutil.rmtree(node_dir)
        try:
            self._stage(plan, node_dir)
            (node_dir / "plan.json").write_text(plan_to_json(plan))
            write_json_atomic(node_dir / "node.json", {
                "index": index, "bus_path": str(self.bus_path or ""),
                "kill_grace_s": self.kill_grace_s, **topology})
        except BaseException:
            shutil.rmtree(node_dir, ignore_errors=True)
            raise
        with open(node_dir / "node_log.txt", "ab") as log, \
                open(node_dir / ALIVE_LOCK, "w") as alive:
            # The lock goes to the bootstrap with the descriptor and is held as long as it
            # runs, even if this host dies before pid.json is written.
            fcntl.flock(alive, fcntl.LOCK_EX)
            # cwd is the project root so `-m shared.runner.node` imports this very code;
            # the user's processes run in code/ and do not see it on their path.
            proc = subprocess.Popen(
                [sys.executable, "-m", "shared.runner.node", str(node_dir.resolve())],
                cwd=_PROJECT_ROOT, env=without_secrets(os.environ), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                pass_fds=(alive.fileno(),))
        self._children[proc.pid] = proc
        pause_point("compute", "launched")  # crash tests: a node running, pid.json not yet
        stat = _proc_stat(proc.pid)
        write_json_atomic(node_dir / "pid.json", {"pid": proc.pid,
                                                  "start_time": stat and stat[1]})

    def _stage(self, plan: LaunchPlan, node_dir: Path) -> None:
        extract_snapshot(self.blobs.get(plan.snapshot), node_dir / "code")
        for name, spec in plan.inputs.items():
            folder = node_dir / "inputs" / name
            folder.mkdir(parents=True, exist_ok=True)
            if spec["mode"] == "file":
                self.blobs.download(spec["blob"], folder / PurePosixPath(spec["blob"]).name)
            else:
                self.blobs.download(spec["blob"], folder)

    # --- watching ----------------------------------------------------------------------

    def poll(self, run_id: str) -> NodeState:
        """The run's state, read from its node folders and combined as
        shared.runner.outcome.combine says: while some nodes run, one that has already
        ended badly comes with the answer. A bootstrap gone without exit.json is "exited"
        with reason "lost" ("canceled" if a cancel had been asked for) and no exit code.
        """
        return combine([(self._node_state(d), _failed_at(d)) for d in self._node_dirs(run_id)])

    def _node_state(self, node_dir: Path) -> NodeState:
        body = _read_json(node_dir / "exit.json")
        if body is not None:
            return exited(body)
        started = (_read_json(node_dir / "started.json") or {}).get("started_at", "")
        if not (node_dir / "pid.json").exists():
            if _held(node_dir / ALIVE_LOCK):  # its host died before writing pid.json
                return NodeState("running", started_at=started)
            return NodeState("unknown")  # still staging, or a submit died before launch
        if self._live_pid(node_dir) is not None:
            return NodeState("running", started_at=started)
        body = _read_json(node_dir / "exit.json")  # it may have finished just now
        if body is not None:
            return exited(body)
        reason = "canceled" if (node_dir / CANCEL_MARKER).exists() else "lost"
        return NodeState("exited", reason=reason, started_at=started)

    def _live_pid(self, node_dir: Path) -> int | None:
        """The pid of the node's bootstrap if that very process still runs."""
        launched = _read_json(node_dir / "pid.json") or {}
        pid = launched.get("pid")
        if pid is None:
            return None
        child = self._children.get(pid)
        if child is not None and child.poll() is not None:
            del self._children[pid]  # reaped now: as a zombie it would look alive
            return None
        now = _proc_stat(pid)
        if now is not None:
            # A recycled pid has another start time; a zombie has ended.
            state, start = now
            alive = state not in ("Z", "X") and start == launched.get("start_time")
            return pid if alive else None
        try:  # no /proc (macOS): the best available answer
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:  # another user's process: ours would be signallable
            return None
        return pid

    def running(self) -> list[str]:
        """Run ids with a node folder that has no exit.json yet, sorted."""
        if not self.work_root.is_dir():
            return []
        return sorted(d.name for d in self.work_root.iterdir() if _RUN_ID.match(d.name)
                      and any(not (n / "exit.json").exists() for n in self._node_dirs(d.name)))

    def read_log(self, run_id: str, rank: int, offset: int) -> bytes:
        """Bytes of std_log_process_<rank>.txt from offset; b"" before the log exists."""
        for node_dir in self._node_dirs(run_id):
            path = node_dir / "user_logs" / f"std_log_process_{rank}.txt"
            if path.exists():
                with open(path, "rb") as f:
                    f.seek(offset)
                    return f.read()
        return b""

    def read_metrics(self, run_id: str) -> dict[str, list[dict]]:
        """What rank 0 has logged to MLflow so far: node 0's store, read while it runs."""
        nodes = self._node_dirs(run_id)
        return read_store_folder(nodes[0] / "mlruns") if nodes else {}

    # --- stopping and collecting -------------------------------------------------------

    def cancel(self, run_id: str) -> None:
        """Ask every node of the run to stop; the bootstrap stops its processes and writes
        exit.json with reason "canceled". A run that has ended, or never was, is fine."""
        for node_dir in self._node_dirs(run_id):
            if (node_dir / "exit.json").exists():
                continue
            # The marker covers a bootstrap not yet listening for signals.
            (node_dir / CANCEL_MARKER).touch()
            pid = self._live_pid(node_dir)
            if pid is not None:
                try:
                    os.killpg(pid, signal.SIGTERM)  # the bootstrap leads its own session
                except ProcessLookupError:
                    pass

    def collect(self, run_id: str, blobs: BlobStore) -> list[str]:
        """Upload what the run left to runs/<run_id>/: outputs/, logs/, user_logs/,
        named_outputs/<name>/ and mlruns/. Uploading again overwrites with the same files.
        Returns a warning for each link that led out of a node folder: those are not
        uploaded (see shared.runner.collected)."""
        prefix = f"runs/{run_id}"
        refused: set[str] = set()
        # Every node's files land in the same folders; the master goes last, so where two
        # nodes wrote the same name (a model saved by each node's local rank 0), the
        # master's copy is the one kept.
        for node_dir in reversed(self._node_dirs(run_id)):
            refused.update(f"{node_dir.name}/{name}" for name in
                           (_read_json(node_dir / "exit.json") or {}).get("refused_links", ()))
            for sub, dest in COLLECTED:
                files, outside = collectable(node_dir / sub, node_dir)
                refused.update(f"{node_dir.name}/{name}" for name in outside)
                for path, name in files:
                    blobs.put_file(f"{prefix}/{dest}/{name}", path)
            # The bootstrap's own log explains a lost node; Azure ML calls these system logs.
            node_log = node_dir / "node_log.txt"
            if node_log.is_file():
                blobs.put(f"{prefix}/system_logs/{node_dir.name}.txt", node_log.read_bytes())
        return [refusal_warning(name) for name in sorted(refused)]

    def _run_dir(self, run_id: str) -> Path:
        if not _RUN_ID.match(run_id):
            raise PermanentError(f"run id {run_id!r} cannot name a folder")
        return self.work_root / run_id

    def _node_dirs(self, run_id: str) -> list[Path]:
        run_dir = self._run_dir(run_id)
        if not run_dir.is_dir():
            return []
        found = [d for d in run_dir.glob("node-*") if d.is_dir() and d.name[5:].isdigit()]
        return sorted(found, key=lambda d: int(d.name.removeprefix("node-")))


def _held(lock: Path) -> bool:
    """Whether a node bootstrap launched with this lock file still runs."""
    try:
        with open(lock) as f:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False
    except BlockingIOError:
        return True
    return False


def _failed_at(node_dir: Path) -> str:
    return (_read_json(node_dir / "exit.json") or {}).get("failed_at") or ""


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) from /proc, or None where there is no /proc.
    A pid that /proc does not list reports state "X" (gone)."""
    if not Path("/proc/self/stat").exists():
        return None
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ("X", "")
    # The command name in parentheses may hold spaces; the fields after it do not.
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], fields[19]
