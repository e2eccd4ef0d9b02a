"""The servers under test, each in its own process so that the load generator, the
bench harness and the server never share a GIL: `mlcycle up`, the constant endpoint,
and (when set up) `mlflow models serve`."""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLCYCLE = "import sys; from shared.cli.main import main; sys.exit(main())"  # the `mlcycle` script


@dataclass
class Server:
    """A running server process: where it listens and the key it wants."""

    name: str
    process: subprocess.Popen
    url: str
    key: str = ""
    started_s: float = 0.0  # from spawn to answering its first request
    spawned_at: float = 0.0  # perf_counter() when the process was spawned

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_mlcycle(work: Path) -> Server:
    """`mlcycle up` on work/data (fresh, or as a previous host left it), with its own
    MLCYCLE_HOME so that the config file of whoever runs the bench is left alone."""
    home = work / "home"
    config = home / "config.json"
    home.mkdir(parents=True, exist_ok=True)
    config.unlink(missing_ok=True)  # a previous host's: wait for this one's
    env = {**os.environ, "MLCYCLE_HOME": str(home), "MLCYCLE_RETRY_BACKOFF_S": "0.2"}
    spawned = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", MLCYCLE, "up", "--port", "0",
                             "--data-root", str(work / "data")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(work / "mlcycle-up.log", "wb"))
    _wait(lambda: config.is_file() and config.stat().st_size > 0, proc, "mlcycle up")
    stored = json.loads(config.read_text())
    server = Server("mlcycle", proc, stored["endpoint"], stored["key"], spawned_at=spawned)
    _wait(lambda: _answers(server.url + "/api/health"), proc, "mlcycle up")
    server.started_s = time.perf_counter() - spawned
    return server


def start_constant() -> Server:
    key = secrets.token_urlsafe(32)
    proc = subprocess.Popen([sys.executable, "-m", "bench.constant_server", "--key", key],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    if not url:
        raise RuntimeError("the constant server did not start")
    return Server("constant", proc, url, key)


def start_mlflow(python: Path, model_uri: Path, work: Path, port: int) -> Server:
    """`mlflow models serve --env-manager local` from the bench's own mlflow venv."""
    # MLflow execs `uvicorn` by name: its venv's bin must come first on PATH.
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    spawned = time.perf_counter()
    proc = subprocess.Popen(
        [str(python), "-m", "mlflow", "models", "serve", "-m", str(model_uri),
         "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)], cwd=work,
        stdout=subprocess.DEVNULL, stderr=open(work / f"mlflow-{port}.log", "wb"),
        env=env, start_new_session=True)  # its workers are children: stop them with it
    server = Server("mlflow", proc, f"http://127.0.0.1:{port}")
    _wait(lambda: _answers(server.url + "/ping"), proc, "mlflow models serve", timeout=120)
    server.started_s = time.perf_counter() - spawned
    return server


def stop_group(server: Server) -> None:
    """Stop a server started in its own session, and the workers it forked."""
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        server.stop()


DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy to 127.0.0.1


def _answers(url: str) -> bool:
    try:
        with DIRECT.open(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def _wait(ready, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{what} was not ready within {timeout} s")
        time.sleep(0.02)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
