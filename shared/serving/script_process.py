"""One scoring-script server process: started in a state folder of its own, found again
from that folder after the host restarted, asked whether it is healthy, stopped.

A state folder holds `server.json` (written by the server once `init()` returned: its
pid and port), `token` (the secret the server wants on every request, 0600),
`failure.json` (written by a server whose script failed to load or init) and
`server.log` (the server's stdout and stderr: the deployment's log).
"""
from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from shared.runner.child_env import without_secrets
from shared.serving.script_errors import ScriptFailed
from shared.serving.script_host import TOKEN_HEADER, TOKEN_VARIABLE

HOST_PROGRAM = Path(__file__).with_name("script_host.py")
LOG = "server.log"
_POLL_S = 0.05
_TAIL_LINES = 20


@dataclass
class Server:
    """A running server: `child` is its Popen when this process started it (and must
    reap it), None for one adopted after a restart."""

    pid: int
    port: int
    token: str
    child: subprocess.Popen | None = None

    def alive(self) -> bool:
        if self.child is not None:
            return self.child.poll() is None
        return _pid_alive(self.pid)


def launch(state: Path, *, interpreter: str, script: Path, instance: str,
           env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """Start the server of one instance; it is ready once `wait_ready` says so.

    env: what the script needs beyond the host's environment, less its secrets
    (AZUREML_MODEL_DIR, the deployment's environment_variables).
    """
    for name in ("server.json", "failure.json"):
        (state / name).unlink(missing_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(state / "token", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    inherited = {k: v for k, v in without_secrets(os.environ).items()
                 if not k.startswith("MLCYCLE_")}
    with open(state / LOG, "ab") as log:
        try:
            # A session of its own: a Ctrl-C meant for the host does not reach it, and
            # after a host that died it lives on, to be adopted by the next one.
            return subprocess.Popen(
                [interpreter, str(HOST_PROGRAM), str(state), str(script), instance],
                cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env={**inherited, **env, TOKEN_VARIABLE: token, "PYTHONUNBUFFERED": "1"},
                start_new_session=True)
        except OSError as exc:
            raise ScriptFailed(f"cannot start the scoring server with {interpreter}: "
                               f"{exc.strerror or exc}") from exc


def wait_ready(state: Path, child: subprocess.Popen, *, instance: str,
               timeout_s: float) -> Server:
    """Wait until the server child serves and answers its health check.

    Raises:
        ScriptFailed: the script failed to load or init (its reason, and the log's
            tail), the server exited, or it was not ready within timeout_s (it is
            stopped then).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        server = read_server(state, child)
        if server is not None and server.pid == child.pid:
            if healthy(server, instance):
                return server
            stop(server)
            raise ScriptFailed(f"the scoring server started but does not answer its health "
                               f"check{log_tail(state)}")
        if child.poll() is not None:
            raise ScriptFailed(_why_exited(state, child.returncode))
        time.sleep(_POLL_S)
    stop(Server(child.pid, 0, "", child))
    raise ScriptFailed(f"the scoring server did not become ready within {timeout_s:.0f} s"
                       f"{log_tail(state)}")


def read_server(state: Path, child: subprocess.Popen | None = None) -> Server | None:
    """The server a state folder describes, if its server got as far as serving."""
    try:
        described = json.loads((state / "server.json").read_text())
        token = (state / "token").read_text()
    except (OSError, ValueError):
        return None
    return Server(int(described["pid"]), int(described["port"]), token, child)


def healthy(server: Server, instance: str, timeout_s: float = 30.0) -> bool:
    """Whether the server answers its health check as the instance it should be (a pid
    reused by another process answers nothing, or not with this token)."""
    try:
        status, body = request(server, "GET", "/health", b"", timeout_s)
        return status == 200 and json.loads(body).get("instance") == instance
    except (OSError, http.client.HTTPException, ValueError):
        return False


def request(server: Server, method: str, path: str, body: bytes,
            timeout_s: float) -> tuple[int, bytes]:
    """One request to the server; its status and body. Raises what http.client raises
    (ConnectionRefusedError when nothing listens, TimeoutError when it is slow)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout_s)
    try:
        conn.request(method, path, body=body, headers={
            TOKEN_HEADER: server.token, "Content-Type": "application/json"})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def stop(server: Server, timeout_s: float = 10.0) -> None:
    """SIGTERM the server's process group, SIGKILL it if it is still there after
    timeout_s, and reap it when it is this process's child."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout_s
    while server.alive() and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    if server.alive():
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if server.child is not None:
        server.child.wait()


def is_ours(pid: int, instance: str) -> bool:
    """Whether pid is the server of instance (its command line names both), so that a
    pid reused by another process is never signalled."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(HOST_PROGRAM).encode() in argv and instance.encode() in argv


def log_tail(state: Path) -> str:
    try:
        lines = (state / LOG).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    tail = lines[-_TAIL_LINES:]
    return ":\n" + "\n".join(tail) if tail else ""


def _why_exited(state: Path, code: int) -> str:
    try:
        reason = json.loads((state / "failure.json").read_text())["message"]
    except (OSError, ValueError, KeyError):
        reason = f"the scoring server exited with code {code} before it served"
    return f"{reason}{log_tail(state)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead, whoever has still to reap it
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
