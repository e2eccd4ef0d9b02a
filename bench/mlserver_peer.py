"""A second peer: Seldon MLServer serving the same models over the Open Inference
Protocol (V2). It lives in its own venv (.tools/bench-mlserver-venv) so that its pins
(pydantic, fastapi, grpcio, pandas...) cannot fight the project's or the other peers'.

sklearn is served by the official `mlserver-sklearn` runtime on the very model.pkl
mlcycle registers, which is what a user of MLServer would pick. MLServer ships no ONNX
runtime any more, so torch is served by a small custom runtime (an `mlserver.MLModel`
subclass beside the model, MLServer's documented way) that runs the ONNX file mlcycle
serves with onnxruntime.

Settings are MLServer's defaults except where they must differ on a shared bench
machine: bound to 127.0.0.1, HTTP on the port asked for, gRPC and the metrics server
(both always on in MLServer 1.7) on free ports. Of note among the defaults:
`parallel_workers` is 1, i.e. inference does not run in the process that answers HTTP
but in one separate worker process, each request crossing a pipe there and back; and
`debug` is true, `gzip_enabled` true, metrics collected on every request, and
uvicorn's access log on (a line a request, into the log in `work`)."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from bench import venvs
from bench.models import SavedModel, flat
from bench.servers import Server, _answers, _wait, free_port

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".tools" / "bench-mlserver-venv"
PYTHON = VENV / "bin" / "python"
# mlserver and its sklearn runtime move together; scikit-learn and onnxruntime are the
# project's versions, so the pickle loads and the ONNX file runs identically; numpy is
# the project's too (mlserver 1.7 accepts numpy 2). uvloop 0.22 made MLServer 1.7.1's
# inference workers die at start ("no current event loop", SeldonIO/MLServer#2286):
# below it, as MLflow pins it for the same reason.
PACKAGES = ("mlserver==1.7.1", "mlserver-sklearn==1.7.1", "scikit-learn==1.9.1",
            "onnxruntime==1.32.0", "numpy==2.4.6", "uvloop<0.22")
TIMEOUT_S = 180  # from spawn to the model's readiness

# The custom runtime for the ONNX file. MLServer puts the model's folder on sys.path,
# so `peer_onnx.OnnxModel` resolves there (named so as not to shadow `onnxruntime`).
_RUNTIME = '''
import numpy as np
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse
from mlserver.utils import get_model_uri


class OnnxModel(MLModel):
    async def load(self) -> bool:
        uri = await get_model_uri(self._settings)
        self._session = ort.InferenceSession(uri, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        x = NumpyCodec.decode_input(payload.inputs[0]).astype(np.float32, copy=False)
        first = self._session.run([self._output], {self._input: x})[0]
        return InferenceResponse(model_name=self.name, model_version=self.version,
                                 outputs=[NumpyCodec.encode_output(self._output, first)])
'''


def ready() -> bool:
    return venvs.ready(VENV)


def setup() -> None:
    """Install MLServer into its venv, once."""
    venvs.setup(VENV, PACKAGES)


def prepare(kind: str, model: SavedModel, onnx_path: Path, dest: Path) -> Path:
    """An MLServer model repository at dest serving one model named `kind`: settings.json
    (server-wide) and dest/kind/ with model-settings.json and the model's file."""
    if (dest / "settings.json").is_file():  # written last: the repository is whole
        return dest
    shutil.rmtree(dest, ignore_errors=True)  # a half-written one from a failed run
    folder = dest / kind
    folder.mkdir(parents=True)
    if kind == "sklearn":
        shutil.copy2(model.folder / "model.pkl", folder / "model.pkl")
        settings = {"implementation": "mlserver_sklearn.SKLearnModel",
                    "parameters": {"uri": "./model.pkl"}}
    else:
        shutil.copy2(onnx_path, folder / "model.onnx")
        (folder / "peer_onnx.py").write_text(_RUNTIME)
        settings = {"implementation": "peer_onnx.OnnxModel",
                    "parameters": {"uri": "./model.onnx"}}
    (folder / "model-settings.json").write_text(json.dumps({"name": kind, **settings}))
    # Ports are not written here but given per start (MLSERVER_* variables), since a
    # value in settings.json would win over the environment.
    (dest / "settings.json").write_text(json.dumps({"host": "127.0.0.1"}))
    return dest


def start(dest: Path, work: Path, port: int) -> Server:
    """`mlserver start dest` in its own session. Stop it with bench.servers.stop_group:
    the worker ignores the SIGTERM, and the main process stops it on its own."""
    kind = next(p.parent.name for p in dest.glob("*/model-settings.json"))
    env = {**os.environ, "MLSERVER_HTTP_PORT": str(port),
           "MLSERVER_GRPC_PORT": str(free_port()), "MLSERVER_METRICS_PORT": str(free_port()),
           # Its venv's bin first, as `mlserver` would be run from an activated venv.
           "PATH": f"{PYTHON.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    # A working directory of its own: MLServer keeps .metrics/ (the workers' Prometheus
    # files, all of which /metrics adds up) and .envs/ there, and two servers sharing one
    # would count each other's requests.
    run = work / f"mlserver-{port}"
    run.mkdir(parents=True, exist_ok=True)
    spawned = time.perf_counter()
    with open(work / f"mlserver-{port}.log", "wb") as log:  # its logger writes to stdout
        proc = subprocess.Popen([str(PYTHON.parent / "mlserver"), "start", str(dest)],
                                cwd=run, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = Server("mlserver", proc, f"http://127.0.0.1:{port}", spawned_at=spawned)
    try:
        # The model's readiness, not the server's: the server answers before its worker
        # has loaded the model.
        _wait(lambda: _answers(server.url + f"/v2/models/{kind}/ready"), proc,
              "mlserver start", timeout=TIMEOUT_S)
    except RuntimeError:
        # _wait kills the main process only; its worker ignores SIGTERM by design and
        # would outlive it. Both are in the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    server.started_s = time.perf_counter() - spawned
    return server


def score_path(kind: str) -> str:
    return f"/v2/models/{kind}/infer"


def body(rows: list[list[float]]) -> dict:
    """The Open Inference Protocol body: one FP32 tensor, data flattened or nested (both
    are accepted; nested rows are sent, as a client with a list in hand would)."""
    return {"inputs": [{"name": "input", "shape": [len(rows), len(rows[0]) if rows else 0],
                        "datatype": "FP32", "data": rows}]}


def predictions(reply: dict) -> list:
    """The first output's values, flat (OIP replies carry them flat with a shape)."""
    return flat(reply["outputs"][0]["data"])
