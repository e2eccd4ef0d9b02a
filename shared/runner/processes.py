"""The user processes of one node, each leading its own session so that stopping one
also stops whatever it started: data loader workers, shells, and mpirun's ranks, which
OpenMPI puts in process groups of their own but leaves in mpirun's session."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

_TICK_S = 0.05
COMMAND_NOT_RUN = 127  # what a shell reports when it cannot run a command


def shell_code(returncode: int) -> int:
    """A returncode in the shell's convention: killed by signal N gives 128+N."""
    return 128 - returncode if returncode < 0 else returncode


class ProcessGroup:
    """Processes started with `bash -c` in one folder, logs appended to
    <log_dir>/std_log_process_<rank>.txt (stdout and stderr together, unbuffered: the
    child writes straight into the file)."""

    def __init__(self, cwd: Path, log_dir: Path, grace_s: float = 5.0) -> None:
        self.cwd = cwd
        self.log_dir = log_dir
        self.grace_s = grace_s
        self.procs: dict[int, subprocess.Popen] = {}
        self.failed_to_start: dict[int, int] = {}

    def log_path(self, rank: int) -> Path:
        return self.log_dir / f"std_log_process_{rank}.txt"

    def start(self, rank: int, command: str, env: dict[str, str]) -> None:
        """Start one process. A command that cannot be started counts as exited with 127,
        and why goes to its log, so the run fails the way a shell would make it fail."""
        with open(self.log_path(rank), "ab", buffering=0) as log:
            try:
                self.procs[rank] = subprocess.Popen(
                    ["bash", "-c", command], cwd=self.cwd, env=env, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as exc:
                log.write(f"mlcycle: cannot start process {rank}: {exc}\n".encode())
                self.failed_to_start[rank] = COMMAND_NOT_RUN

    def poll(self) -> dict[int, int | None]:
        """rank -> shell-style exit code, or None while running."""
        codes: dict[int, int | None] = dict(self.failed_to_start)
        for rank, proc in self.procs.items():
            code = proc.poll()
            codes[rank] = None if code is None else shell_code(code)
        return codes

    def stop(self) -> None:
        """SIGTERM every process of every session, SIGKILL what is left after the grace
        period. Sessions whose leader already ended are signalled too: their stragglers
        must not outlive the run."""
        self._signal_all(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_s
        while any(self._tree_alive(p) for p in self.procs.values()):
            if time.monotonic() >= deadline:
                break
            time.sleep(_TICK_S)
        self._signal_all(signal.SIGKILL)
        for proc in self.procs.values():
            proc.wait()

    def _signal_all(self, signum: int) -> None:
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signum)
            except (ProcessLookupError, PermissionError):
                pass  # the whole group has already gone
            for pid in session_members(proc.pid):
                try:
                    os.kill(pid, signum)
                except (ProcessLookupError, PermissionError):
                    pass

    @staticmethod
    def _tree_alive(proc: subprocess.Popen) -> bool:
        proc.poll()  # reap the leader, or it would count as alive forever
        if session_members(proc.pid):
            return True
        try:
            os.killpg(proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def session_members(sid: int) -> list[int]:
    """Pids of the live processes in session sid, read from /proc; [] without /proc
    (there the process group is all that can be reached)."""
    found = []
    for entry in _proc_entries():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone while we looked
        if fields[0] not in ("Z", "X") and int(fields[3]) == sid:
            found.append(int(entry.name))
    return found


def _proc_entries() -> list[Path]:
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return []
    return [p for p in proc.iterdir() if p.name.isdigit()]
