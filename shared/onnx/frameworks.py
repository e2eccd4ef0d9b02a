"""Telling a model's framework from its files, for a model registered without a
`framework` tag: an MLflow model by the flavor its `MLmodel` file names, any other by
the kind of model file it holds.

Pure and cheap (names and the MLmodel text only): model-register runs it on the blob
listing before any framework is imported.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

# MLflow flavors -> Azure ML's Model.Framework names, in the order one is preferred when
# a model has several (an ONNX flavor is already converted; sklearn before pytorch since
# a pipeline may carry both).
_FLAVORS = (("onnx", "Onnx"), ("sklearn", "ScikitLearn"), ("pytorch", "PyTorch"),
            ("keras", "Keras"), ("tensorflow", "TensorFlow"))
_VERSION_KEYS = ("onnx_version", "sklearn_version", "pytorch_version", "keras_version",
                 "tensorflow_version")
# A bare model file -> its framework.
_SUFFIXES = {".onnx": "Onnx", ".keras": "Keras", ".h5": "Keras", ".pt": "PyTorch",
             ".pth": "PyTorch", ".pt2": "PyTorch", ".ts": "PyTorch", ".torchscript": "PyTorch",
             ".pkl": "ScikitLearn", ".joblib": "ScikitLearn", ".pickle": "ScikitLearn"}
CONVERTED = "mlcycle converts scikit-learn, PyTorch, TensorFlow, Keras and ONNX models"


@dataclass(frozen=True)
class Inferred:
    """The framework told from a model's files ("" when none could be), its version
    when the files say it, and how it was told (or why it could not be)."""

    framework: str
    version: str
    reason: str


def infer_framework(names: Sequence[str], read: Callable[[str], bytes],
                    model_type: str = "custom_model") -> Inferred:
    """The framework of a model whose files are `names` (POSIX paths relative to the
    model's folder; one name for a single-file model).

    Parameters:
        read: the content of one of names (only an MLmodel file is read).
        model_type: the model asset's type; an `mlflow_model` must have an MLmodel.
    """
    mlmodels = [n for n in names if PurePosixPath(n).name == "MLmodel"]
    if len(mlmodels) > 1:
        return Inferred("", "", f"found several MLmodel files ({', '.join(mlmodels[:3])})")
    if mlmodels:
        return _from_mlmodel(mlmodels[0], read(mlmodels[0]))
    if model_type == "mlflow_model":
        return Inferred("", "", "an mlflow_model holds an MLmodel file, and this one has none")
    if any(PurePosixPath(n).name == "saved_model.pb" for n in names):
        return Inferred("TensorFlow", "", "a SavedModel (saved_model.pb)")
    found = {_SUFFIXES[s]: n for n in sorted(names)
             if (s := PurePosixPath(n).suffix.lower()) in _SUFFIXES}
    if len(found) == 1:
        framework, name = found.popitem()
        return Inferred(framework, "", f"the model file {name}")
    if found:
        return Inferred("", "", "files of several frameworks ("
                        + ", ".join(f"{n}: {f}" for f, n in sorted(found.items())) + ")")
    return Inferred("", "", "no model file mlcycle knows (.pkl, .joblib, .pt, .pth, .onnx, "
                    ".keras, .h5, a SavedModel or an MLflow model)")


def _from_mlmodel(name: str, text: bytes) -> Inferred:
    import yaml

    from shared import bounded_yaml  # files a job wrote: nesting is bounded

    try:
        flavors = (bounded_yaml.safe_load(text) or {}).get("flavors") or {}
    except (yaml.YAMLError, AttributeError):
        return Inferred("", "", f"{name} is not a readable MLmodel file")
    if not isinstance(flavors, dict):
        return Inferred("", "", f"{name} names no flavors")
    for flavor, framework in _FLAVORS:
        settings = flavors.get(flavor)
        if isinstance(settings, dict):
            return Inferred(_keras_or_tf(flavor, framework, settings), _version(settings),
                            f"the {flavor} flavor of {name}")
    return Inferred("", "", f"the MLflow model's flavors are {', '.join(sorted(flavors))}; "
                    f"{CONVERTED}")


def _keras_or_tf(flavor: str, framework: str, settings: dict) -> str:
    # mlflow.tensorflow logs Keras models too, saying so in model_type.
    if flavor == "tensorflow" and str(settings.get("model_type", "")).lower() == "keras":
        return "Keras"
    return framework


def _version(settings: dict) -> str:
    return next((str(settings[k]) for k in _VERSION_KEYS if settings.get(k)), "")
