"""Area 6, the ONNX pay-off: onnxruntime against the framework's own inference for the
same models (converted by mlcycle's own converter, parity gate included), batch 1 and
64, in this process. The framework side is the cheapest call each offers for one batch
(`predict`, a module call under inference_mode, a Keras model call), not a serving stack."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.models import SavedModel, rows
from bench.stats import per_call, ratio, summary
from shared.onnx.conversion import convert_model


def run(plan, models: dict[str, SavedModel], work: Path) -> dict:
    out = {}
    for kind in plan.payoff_models:
        model = models[kind]
        converted = convert_model(model.folder, work / "onnx" / kind,
                                  framework=model.framework, tags=model.tags)
        if not converted.ok:
            raise RuntimeError(f"{kind}: conversion failed: {converted.reason}")
        framework_call = _FRAMEWORK[kind](model)
        session = _session(work / "onnx" / kind / "model.onnx")
        for batch in plan.batches:
            x = rows(batch)
            ours, theirs = _paired(lambda: session(x), lambda: framework_call(x), plan)
            out[f"{kind}/b{batch}"] = {"onnxruntime_ms": summary(ours),
                                       "framework_ms": summary(theirs),
                                       "speedup": ratio(theirs, ours)}
    return out


def _paired(ours, theirs, plan) -> tuple[list[float], list[float]]:
    ours(), theirs()  # first calls build caches and kernels: not measured
    a, b = [], []
    for _ in range(plan.rounds):
        a.append(per_call(ours, min_s=plan.payoff_s) * 1e3)
        b.append(per_call(theirs, min_s=plan.payoff_s) * 1e3)
    return a, b


def _session(path: Path):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    first = session.get_outputs()[0].name  # what the no-code endpoint returns
    return lambda x: session.run([first], {name: x})


def _sklearn(model: SavedModel):
    import joblib

    estimator = joblib.load(model.folder / "model.pkl")
    return estimator.predict


def _torch(model: SavedModel):
    import torch

    module = torch.jit.load(str(model.folder / "model.pt")).eval()

    def call(x: np.ndarray):
        with torch.inference_mode():
            return module(torch.from_numpy(x)).numpy()

    return call


def _keras(model: SavedModel):
    import keras

    loaded = keras.models.load_model(model.folder / "model.keras")
    return lambda x: loaded(x, training=False)


_FRAMEWORK = {"sklearn": _sklearn, "torch": _torch, "keras": _keras}
