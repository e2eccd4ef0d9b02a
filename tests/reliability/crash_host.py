"""A real `mlcycle up` process that the crash tests stop where they like and SIGKILL, and
the audit of what a data root holds afterwards."""
from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tests.processes import processes_of, wait_for

MLCYCLE = str(Path(sys.executable).parent / "mlcycle")
JOB_SOURCE = Path(__file__).parent / "crash_job" / "src"
# A restarted host re-takes the message a killed one held once its lock expires; the
# default 300 s would make every test wait that long.
LOCK_S = "3"
TERMINAL = ("Completed", "Failed", "Canceled")


class Host:
    """One data root and MLCYCLE_HOME, served by one `mlcycle up` process at a time."""

    def __init__(self, root: Path) -> None:
        self.root, self.home, self.data = root, root / "home", root / "data"
        self.marker = root / "paused-at"
        self.proc: subprocess.Popen | None = None
        self.endpoint = self.key = ""
        self.starts = 0

    def start(self, pause_at: str = "") -> "Host":
        """Start `mlcycle up`; with pause_at, the thread that reaches that pause point
        (shared/faults.py) writes self.marker and blocks until the host is killed."""
        config = self.home / "config.json"
        config.unlink(missing_ok=True)
        self.marker.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLCYCLE_")}
        env.update(MLCYCLE_HOME=str(self.home), MLCYCLE_LOCK_TIMEOUT_S=LOCK_S,
                   MLCYCLE_RETRY_BACKOFF_S="0.2")
        if pause_at:
            env.update(MLCYCLE_PAUSE_AT=pause_at, MLCYCLE_PAUSE_MARKER=str(self.marker))
        self.starts += 1
        log = open(self.root / f"host-{self.starts}.log", "wb")
        self.proc = subprocess.Popen(
            [MLCYCLE, "up", "--port", "0", "--data-root", str(self.data)], env=env,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        wait_for(lambda: self._alive() and config.exists(), 90)
        settings = json.loads(config.read_text())
        self.endpoint, self.key = settings["endpoint"], settings["key"]
        return self

    def _alive(self) -> bool:
        assert self.proc.poll() is None, self.log()
        return True

    def log(self) -> str:
        return (self.root / f"host-{self.starts}.log").read_text(errors="replace")[-4000:]

    def paused(self, within_s: float = 120) -> str:
        """Wait until the pause point is reached; returns what the marker says."""
        return wait_for(lambda: self._alive() and self.marker.exists()
                        and self.marker.read_text(), within_s)

    def kill(self) -> None:
        """SIGKILL the host process itself: no handler, finally or atexit runs."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def get(self, path: str):
        """GET /api/<path> as JSON; None for a 404."""
        request = urllib.request.Request(f"{self.endpoint}/api/{path}",
                                         headers={"x-functions-key": self.key})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def cli(self, *argv) -> dict:
        """`mlcycle ARGS` in this process, against this host; its JSON output."""
        from shared.cli.main import main

        saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("MLCYCLE_")}
        os.environ["MLCYCLE_HOME"] = str(self.home)
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main([str(a) for a in argv])
                except SystemExit as exc:
                    code = exc.code
        finally:
            os.environ.pop("MLCYCLE_HOME")
            os.environ.update(saved)
        assert code == 0, err.getvalue()
        return json.loads(out.getvalue())

    def submit(self, trace: Path, *, hold: bool = False) -> str:
        """Submit the iris job that registers crash-iris when it completes; its run id."""
        folder = self.root / "job"
        if not folder.exists():
            folder.mkdir()
            (folder / "src").mkdir()
            (folder / "src" / "train.py").write_text((JOB_SOURCE / "train.py").read_text())
        trace.mkdir(exist_ok=True)
        (folder / "job.yml").write_text(
            "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
            "code: ./src\n"
            f"command: python train.py --trace {trace}{' --hold' if hold else ''}\n"
            "environment: azureml:AzureML-sklearn-1.5@latest\n"
            "experiment_name: crash\n"
            "tags:\n  register_model: crash-iris\n  model_path: outputs/model.pkl\n"
            "  model_framework: ScikitLearn\n")
        return self.cli("job", "create", "-f", folder / "job.yml")["name"]

    def run_status(self, run_id: str) -> str:
        return self.get(f"jobs/{run_id}")["status"]

    def converted(self, name: str, version: str) -> dict | None:
        model = self.get(f"models/{name}/versions/{version}")
        return model if model and model["state"] in ("Converted", "ConversionFailed") else None


# --- the audit -------------------------------------------------------------------------

def records(data: Path, kind: str) -> list[dict]:
    with contextlib.closing(sqlite3.connect(data / "registry.sqlite")) as db:
        rows = db.execute("SELECT body FROM records WHERE kind = ? ORDER BY seq", (kind,))
        return [json.loads(body) for (body,) in rows]


def bus_rows(data: Path, sql: str, *args) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(data / "bus.sqlite")) as db:
        return db.execute(sql, args).fetchall()


def half_written(data: Path) -> list[str]:
    """Temporary files left behind, and JSON files or SQLite databases that do not read."""
    bad = []
    for path in sorted(data.rglob("*")):
        if not path.is_file():
            continue
        name = path.name
        if name.startswith(".tmp-") or name.endswith((".tmp", ".partial")):
            bad.append(f"{path}: a temporary file left behind")
        elif name.endswith(".json"):
            try:
                json.loads(path.read_text())
            except ValueError as exc:
                bad.append(f"{path}: {exc}")
        elif name.endswith(".sqlite"):
            with contextlib.closing(sqlite3.connect(path)) as db:
                verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                bad.append(f"{path}: {verdict}")
    return bad


def unlike_their_source(data: Path, run_id: str) -> list[str]:
    """Stored model files that differ from the file the run wrote."""
    source = data / "blobs" / "runs" / run_id / "outputs" / "model.pkl"
    return [f"{copy}: differs from {source}"
            for copy in sorted((data / "blobs" / "models" / "crash-iris").glob("*/model.pkl"))
            if not source.is_file() or copy.read_bytes() != source.read_bytes()]


def leftover_processes(home: Path, run_id: str) -> list[int]:
    """Processes still running after the host was stopped: the run's (they carry its
    MLCYCLE_RUN_ID) and any other child of a host of this test (they carry its
    MLCYCLE_HOME), after a short grace for a node that is just writing its exit."""
    marker = f"MLCYCLE_HOME={home}".encode()

    def find() -> list[int]:
        found = set(processes_of(run_id))
        for entry in Path("/proc").iterdir():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0") and \
                        (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.add(int(entry.name))
            except (OSError, ValueError):
                continue
        return sorted(found)

    try:
        wait_for(lambda: not find(), 15)
    except AssertionError:
        pass
    return find()


def audit(host: Host, run_id: str, *, versions: int = 1, deployments: int = 0) -> dict:
    """What the stopped host's data root holds against what one run should leave: one
    run, Completed once; `versions` versions of crash-iris, each converted once;
    `deployments` deployments; no dead letter, leftover process or half-written file."""
    runs = [r for r in records(host.data, "run") if r["name"] == run_id]
    ends = [s for r in runs for s in r["status_history"] if s["status"] in TERMINAL]
    models = [m for m in records(host.data, "model") if m["name"] == "crash-iris"]
    deps = records(host.data, "deployment")
    folders = sorted(p.name for p in (host.data / "blobs" / "models" / "crash-iris").glob("*"))
    completed = bus_rows(host.data, "SELECT COUNT(*) FROM events WHERE type = 'JobCompleted' "
                                    "AND correlation_id = ?", run_id)[0][0]
    deployed = bus_rows(host.data, "SELECT COUNT(*) FROM events "
                                   "WHERE type = 'ModelDeployed'")[0][0]
    found = {
        "runs": len(runs), "ends": [s["status"] for s in ends], "versions": len(models),
        "states": [m["state"] for m in models], "model_folders": folders,
        "deployments": len(deps), "completed_events": completed, "deployed_events": deployed,
        "dead_letters": bus_rows(host.data, "SELECT queue, type, reason FROM dead_letters"),
        "orphans": leftover_processes(host.home, run_id),
        "half_written": half_written(host.data) + unlike_their_source(host.data, run_id),
    }
    ended_well = bool(ends) and ends[-1]["status"] == "Completed"
    found["missing"] = sum([
        max(0, 1 - len(runs)), not ended_well, max(0, versions - len(models)),
        sum(state != "Converted" for state in found["states"]),
        max(0, deployments - len(deps)), max(0, deployments - deployed),
        len(found["dead_letters"])])
    found["duplicated"] = sum([
        max(0, len(runs) - 1), max(0, len(ends) - 1), max(0, len(models) - versions),
        max(0, len(folders) - versions), max(0, completed - 1),
        max(0, len(deps) - deployments), max(0, deployed - deployments)])
    found["lost"] = (found["missing"] + found["duplicated"] + len(found["orphans"])
                     + len(found["half_written"]))
    return found


def end_orphans(pids: list[int]) -> None:
    """Stop what a failed test left running (processes it started, by their pid)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
