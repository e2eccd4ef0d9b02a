"""The serving peers, side by side behind one shape: `mlflow models serve` (the peer of
the first benchmarks), Seldon MLServer and BentoML (the servers users who care about
serving pick). Each lives in its own venv under .tools/ and serves the same model files
mlcycle registers (bench/mlflow_peer.py, mlserver_peer.py, bentoml_peer.py say how)."""
from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from bench import bentoml_peer, mlflow_peer, mlserver_peer, servers
from bench.models import SavedModel, flat


@dataclass(frozen=True)
class Peer:
    name: str
    module: ModuleType

    def ready(self) -> bool:
        return self.module.ready()

    def setup(self) -> None:
        self.module.setup()

    def start(self, kind: str, model: SavedModel, onnx: Path, work: Path) -> servers.Server:
        """The peer serving kind's model, answering (its own readiness check passed)."""
        if self.module is mlflow_peer:
            saved = mlflow_peer.save(kind, model, work / f"mlflow-{kind}")
            return servers.start_mlflow(mlflow_peer.PYTHON, saved, work, servers.free_port())
        dest = self.module.prepare(kind, model, onnx, work / f"{self.name}-{kind}")
        return self.module.start(dest, work, servers.free_port())

    def path(self, kind: str) -> str:
        return "/invocations" if self.module is mlflow_peer else self.module.score_path(kind)

    def body(self, rows: list[list[float]]) -> dict:
        return self.module.body(rows)

    def predictions(self, reply) -> list:
        if self.module is mlflow_peer:  # {"predictions": [...]}, rows of logits for torch
            return flat(reply["predictions"])
        return self.module.predictions(reply)


PEERS = {"mlflow": Peer("mlflow", mlflow_peer), "mlserver": Peer("mlserver", mlserver_peer),
         "bentoml": Peer("bentoml", bentoml_peer)}


def answers(server: servers.Server, peer: Peer, kind: str, rows: list, expected: list) -> None:
    """Raise unless the peer's predictions for rows are the expected ones (labels for
    sklearn, the argmax of the logits for torch): a peer that answered fast but wrong
    would make every figure against it meaningless."""
    request = urllib.request.Request(server.url + peer.path(kind),
                                     data=json.dumps(peer.body(rows)).encode(),
                                     headers={"Content-Type": "application/json"})
    with servers.DIRECT.open(request, timeout=60) as reply:
        got = peer.predictions(json.loads(reply.read()))
    if kind == "torch":  # logits: ten per row
        got = [max(range(10), key=lambda i, r=r: got[r * 10 + i]) for r in range(len(rows))]
    if [int(v) for v in got] != [int(v) for v in expected]:
        raise RuntimeError(f"{peer.name} answered {got[:8]}... for {kind}, expected "
                           f"{expected[:8]}...")
