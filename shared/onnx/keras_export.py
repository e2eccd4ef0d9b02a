"""Keras -> SavedModel -> ONNX, checked against the Keras model itself.

tf2onnx's own Keras path fails on Keras 3 models, so the model is loaded, exported as a
SavedModel (model.export) and converted through the SavedModel path. Runs in the
conversion child process only: it imports tensorflow, keras and tf2onnx.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from shared.onnx import locate
from shared.onnx.conversion import ConversionError
from shared.onnx.gate import check_parity
from shared.onnx.options import ConversionOptions
from shared.onnx.runtime import adopted
from shared.onnx.tf_export import (export_tensorflow, provenance, savedmodel_to_onnx,
                                   serving_function, signature_specs)

SUFFIXES = (".keras", ".h5", ".hdf5")


def export_keras(model_dir: Path, out_dir: Path, options: ConversionOptions) -> dict:
    """Convert the Keras model in model_dir (a .keras or .h5 file; a SavedModel that
    model.export wrote goes the TensorFlow way) to out_dir/model.onnx.

    Returns
    -------
    dict
        The parity report; `passed` says whether it holds.

    Raises
    ------
    ConversionError
        No model file, one Keras cannot load (custom layers it does not know), or a
        model tf2onnx cannot convert.
    """
    source = _keras_file(model_dir, out_dir)
    if source is None:
        return {**export_tensorflow(model_dir, out_dir, options), "framework": "Keras"}
    import keras
    import tensorflow as tf

    model = _load(source)
    with tempfile.TemporaryDirectory(prefix="mlcycle-keras-") as tmp:
        saved = Path(tmp) / "saved_model"
        _export(model, saved)
        key, function = serving_function(tf.saved_model.load(str(saved)))
        specs = signature_specs(function)
        onnx_path = adopted(out_dir, options) or savedmodel_to_onnx(saved, out_dir, key)
    root = model_dir if model_dir.is_dir() else model_dir.parent
    return check_parity("Keras", onnx_path, lambda feeds: _call(model, feeds), specs, options,
                        source=source.relative_to(root).as_posix(),
                        model_type=type(model).__name__,
                        keras_version=keras.__version__, **provenance(tf.__version__))


def _keras_file(model_dir: Path, out_dir: Path) -> Path | None:
    """The .keras/.h5 file to load, or None for a folder that must hold a SavedModel.

    Raises
    ------
    ConversionError
        Several Keras files, or neither a Keras file nor a SavedModel.
    """
    if model_dir.is_file():
        return model_dir
    if not any(p.suffix in SUFFIXES for p in model_dir.rglob("*")):
        if not any(model_dir.rglob("saved_model.pb")):
            raise ConversionError(f"no Keras model in {model_dir.name}: expected a .keras or "
                                  ".h5 file, or the SavedModel that model.export() writes")
        return None
    return locate.only_file(model_dir, lambda p: p.suffix in SUFFIXES,
                            "Keras model files (.keras, .h5)", exclude=out_dir)


def _load(source: Path) -> Any:
    import keras

    try:
        return keras.models.load_model(str(source), compile=False)
    except Exception as exc:  # Keras raises many types (unknown layers, bad archives)
        raise ConversionError(f"could not load {source.name} as a Keras model: "
                              f"{_cause(exc)}") from exc


def _cause(exc: Exception) -> str:
    """The line that says what went wrong: Keras wraps an unknown custom layer's
    "Could not locate class ..." in a paragraph about get_config() and the whole config."""
    text = str(exc).strip()
    if "Exception encountered: " in text:
        text = text.split("Exception encountered: ", 1)[1].split(" Full object config")[0]
    first = text.splitlines()[0][:500] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _export(model: Any, saved: Path) -> None:
    try:
        model.export(str(saved), format="tf_saved_model", verbose=False)
    except Exception as exc:  # as above: the export traces the model's call
        raise ConversionError(f"Keras cannot export {type(model).__name__} as a SavedModel: "
                              f"{type(exc).__name__}: {str(exc).strip()[:500]}") from exc


def _call(model: Any, feeds: dict[str, np.ndarray]) -> Any:
    """The Keras model's answer: named outputs by name, others in the order the
    exported signature numbers them (output_0, output_1, ...)."""
    import tensorflow as tf

    names = [getattr(t, "name", "") for t in model.inputs]
    if len(feeds) == 1:
        args: Any = next(iter(feeds.values()))
    elif set(names) == set(feeds):
        args = [feeds[name] for name in names]
    else:
        raise ConversionError(f"cannot match the SavedModel's inputs {sorted(feeds)} to the "
                              f"Keras model's {names}")
    outputs = model(args, training=False)
    if isinstance(outputs, dict):
        return {name: np.asarray(t) for name, t in outputs.items()}
    return [np.asarray(t) for t in tf.nest.flatten(outputs)]
