"""A third peer: BentoML 1.4, a `@bentoml.service` class whose `@bentoml.api` method
runs the ONNX file mlcycle serves (for both kinds) with onnxruntime and returns its first
output, served by `bentoml serve` from source. BentoML lives in its own venv
(.tools/bench-bentoml-venv) so that its pins (starlette, opentelemetry, protobuf...)
cannot fight the project's or the other peers'.

The ONNX file rather than the framework's own model: BentoML has no built-in runtime
for either (1.4 services are plain Python), and onnxruntime is what a BentoML user
with an ONNX file writes. The service is left at BentoML's defaults, bound to
127.0.0.1: one worker process (`workers` unset means 1) and a sync API method run on a
pool of one thread (`threads: 1`), beside the worker's event loop; its access log is
on (a line a request, into the log in `work`)."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from bench import venvs
from bench.models import SavedModel, flat
from bench.servers import Server, _answers

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".tools" / "bench-bentoml-venv"
PYTHON = VENV / "bin" / "python"
# onnxruntime and numpy are the project's versions, so the ONNX file runs identically.
PACKAGES = ("bentoml==1.4.40", "onnxruntime==1.32.0", "numpy==2.4.6")
TIMEOUT_S = 180  # from spawn to /readyz

# The service, as BentoML's docs write one: load in __init__, one typed API method. The
# DType annotation makes BentoML build the float32 array the graph takes from JSON.
_SERVICE = '''
from pathlib import Path
from typing import Annotated

import bentoml
import numpy as np
import onnxruntime as ort
from bentoml.validators import DType


@bentoml.service
class Peer:
    def __init__(self) -> None:
        model = Path(__file__).resolve().parent / "model.onnx"
        self.session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.output = self.session.get_outputs()[0].name

    @bentoml.api
    def predict(self, inputs: Annotated[np.ndarray, DType("float32")]) -> np.ndarray:
        return self.session.run([self.output], {self.input: inputs})[0]
'''


def ready() -> bool:
    return venvs.ready(VENV)


def setup() -> None:
    """Install BentoML into its venv, once."""
    venvs.setup(VENV, PACKAGES)


def prepare(kind: str, model: SavedModel, onnx_path: Path, dest: Path) -> Path:
    """A service folder at dest: service.py and the ONNX file beside it. `kind` and
    `model` are not needed: the same service serves both kinds' ONNX files."""
    if (dest / "service.py").is_file():  # written last: the folder is whole
        return dest
    shutil.rmtree(dest, ignore_errors=True)  # a half-written one from a failed run
    dest.mkdir(parents=True)
    shutil.copy2(onnx_path, dest / "model.onnx")
    (dest / "service.py").write_text(_SERVICE)
    return dest


def start(dest: Path, work: Path, port: int) -> Server:
    """`bentoml serve service:Peer` from dest, in its own session. Stop it with
    bench.servers.stop_group: its SIGTERM reaches the arbiter, which stops the worker."""
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ,
           # Its own home, so the store of whoever runs the bench is left alone.
           "BENTOML_HOME": str(work / "bentoml-home"),
           # No usage reports: this machine reaches no host but the package registries.
           "BENTOML_DO_NOT_TRACK": "True",
           "PATH": f"{PYTHON.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    spawned = time.perf_counter()
    with open(work / f"bentoml-{port}.log", "wb") as log:  # it logs to stdout only
        proc = subprocess.Popen(
            [str(PYTHON.parent / "bentoml"), "serve", "service:Peer", "--working-dir",
             str(dest), "--host", "127.0.0.1", "--port", str(port)], cwd=work, env=env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server("bentoml", proc, f"http://127.0.0.1:{port}", spawned_at=spawned)
    # /readyz answers 200 once the worker has run the service's __init__. A service whose
    # __init__ raises does not make it exit (the arbiter stays up): the timeout tells.
    deadline = time.monotonic() + TIMEOUT_S
    while not _answers(server.url + "/readyz"):
        if proc.poll() is not None or time.monotonic() > deadline:
            what = (f"exited with {proc.returncode}" if proc.poll() is not None
                    else f"was not ready within {TIMEOUT_S} s")
            _kill(proc)
            raise RuntimeError(f"bentoml serve {what} (see {work}/bentoml-{port}.log)")
        time.sleep(0.02)
    server.started_s = time.perf_counter() - spawned
    return server


def _kill(proc: subprocess.Popen) -> None:
    """Kill the arbiter and its worker. The arbiter starts each worker in a session of
    its own, out of reach of killpg, and a worker whose arbiter died lives on: find them
    by parent before the arbiter goes. (stop_group's SIGTERM is fine: the arbiter then
    stops its workers itself.)"""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == proc.pid:
                os.kill(int(stat.parent.name), signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def score_path(kind: str) -> str:
    return "/predict"  # the API method's name, whatever the kind


def body(rows: list[list[float]]) -> dict:
    """BentoML's JSON body: one key per argument of the API method."""
    return {"inputs": rows}


def predictions(reply) -> list:
    """The first output's values, flat (BentoML answers with the array as nested lists)."""
    return flat(reply)
