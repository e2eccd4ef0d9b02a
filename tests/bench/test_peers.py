"""The serving peers the benchmarks compare mlcycle with (bench/peers.py) serve the
same models and answer what onnxruntime answers. They need their venvs under .tools/,
which `make bench` makes; without them (CI) these tests are skipped, and the bench
skips the peers too."""
from pathlib import Path

import numpy as np
import pytest

from bench import models, servers
from bench.peers import PEERS, answers
from bench.scoring import _expected

READY = [name for name, peer in PEERS.items() if name != "mlflow" and peer.ready()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Both models and an ONNX file of each (what the peers that run onnxruntime serve)."""
    root = tmp_path_factory.mktemp("peers")
    saved = models.train(("sklearn", "torch"), root / "models")
    return saved, {kind: _onnx(kind, saved[kind], root) for kind in saved}


def _onnx(kind: str, model, root: Path) -> Path:
    path = root / f"{kind}.onnx"
    if kind == "sklearn":
        import joblib
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType

        onx = convert_sklearn(joblib.load(model.folder / "model.pkl"),
                              initial_types=[("input", FloatTensorType([None, 64]))],
                              options={"zipmap": False})
        path.write_bytes(onx.SerializeToString())
    else:
        import torch

        module = torch.jit.load(str(model.folder / "model.pt"))
        torch.onnx.export(module, (torch.zeros(1, 64),), str(path), input_names=["input"],
                          dynamic_axes={"input": {0: "n"}}, dynamo=False)
    return path


@pytest.mark.skipif(not READY, reason="no peer venvs under .tools/ (make bench makes them)")
@pytest.mark.parametrize("name", READY)
@pytest.mark.parametrize("kind", ["sklearn", "torch"])
def test_a_peer_serves_the_model_and_answers_what_onnxruntime_answers(trained, tmp_path,
                                                                      name, kind):
    saved, onnx = trained
    peer = PEERS[name]
    server = peer.start(kind, saved[kind], onnx[kind], tmp_path)
    try:
        sample = models.rows(8).tolist()
        expected = _expected(onnx[kind], sample)
        answers(server, peer, kind, sample, expected)  # raises when they differ
        wrong = list(np.roll(expected, 1))
        assert wrong != expected
        with pytest.raises(RuntimeError, match="expected"):
            answers(server, peer, kind, sample, wrong)
    finally:
        servers.stop_group(server)
