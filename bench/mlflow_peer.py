"""The peer: `mlflow models serve --env-manager local` serving the same models. Full
MLflow lives in its own venv (.tools/bench-mlflow-venv) so it cannot fight the project's
mlflow-skinny; the models are saved there with mlflow.sklearn / mlflow.pytorch from the
very files mlcycle registers, with a signature so that MLflow feeds float32 tensors."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bench import venvs
from bench.models import SavedModel

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".tools" / "bench-mlflow-venv"
PYTHON = VENV / "bin" / "python"
# The same framework versions as the project's, so the pickles load identically.
PACKAGES = ("mlflow", "scikit-learn==1.9.1", "torch==2.13.0", "py-spy")

_SAVE = """
import sys, joblib, numpy as np, mlflow, torch
from mlflow.models import infer_signature
kind, source, dest = sys.argv[1:]
x = np.zeros((1, 64), dtype=np.float32)
if kind == "sklearn":
    model = joblib.load(source + "/model.pkl")
    mlflow.sklearn.save_model(model, dest, signature=infer_signature(x, model.predict(x)))
else:
    module = torch.jit.load(source + "/model.pt")
    out = module(torch.from_numpy(x)).detach().numpy()
    # A TorchScript module: MLflow saves it with torch.jit.save ("pickle" format).
    mlflow.pytorch.save_model(module, dest, signature=infer_signature(x, out),
                              serialization_format="pickle")
"""


def ready() -> bool:
    return venvs.ready(VENV)


def setup() -> None:
    """Install MLflow into its venv, once."""
    venvs.setup(VENV, PACKAGES)


def save(kind: str, model: SavedModel, dest: Path) -> Path:
    """The model saved as an MLflow model at dest (from the files mlcycle registers)."""
    if not (dest / "MLmodel").is_file():
        shutil.rmtree(dest, ignore_errors=True)  # a half-written one from a failed save
        subprocess.run([str(PYTHON), "-c", _SAVE, kind, str(model.folder), str(dest)],
                       check=True, capture_output=True)
    return dest


def body(rows: list[list[float]]) -> dict:
    """MLflow's scoring body for tensor input."""
    return {"inputs": rows}


def py_spy() -> Path | None:
    path = VENV / "bin" / "py-spy"
    return path if path.is_file() else None
