"""TensorFlow SavedModel -> ONNX through tf2onnx's SavedModel path, then the parity gate.

Runs in the conversion child process only: it imports tensorflow and tf2onnx.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shared.onnx import locate
from shared.onnx.conversion import ConversionError
from shared.onnx.feeds import datatype_of
from shared.onnx.gate import check_parity
from shared.onnx.options import ConversionOptions
from shared.onnx.runtime import adopted, save_model
from shared.serving.signatures import TensorSpec

SERVING = "serving_default"


def export_tensorflow(model_dir: Path, out_dir: Path, options: ConversionOptions) -> dict:
    """Convert the SavedModel in model_dir (what tf.saved_model.save or Keras'
    model.export write) to out_dir/model.onnx and check it against the SavedModel's
    own serving signature.

    Returns
    -------
    dict
        The parity report; `passed` says whether it holds.

    Raises
    ------
    ConversionError
        No SavedModel, no serving signature, or an operation tf2onnx cannot convert.
    """
    import tensorflow as tf

    saved = savedmodel_dir(model_dir, exclude=out_dir)
    try:
        loaded = tf.saved_model.load(str(saved))
    except Exception as exc:  # TensorFlow raises many types for a broken SavedModel
        raise ConversionError(f"could not load the SavedModel: {_first_line(exc)}") from exc
    key, function = serving_function(loaded)
    onnx_path = adopted(out_dir, options) or savedmodel_to_onnx(saved, out_dir, key)
    root = model_dir if model_dir.is_dir() else model_dir.parent
    return check_parity("TensorFlow", onnx_path, lambda feeds: call_signature(function, feeds),
                        signature_specs(function), options,
                        source=saved.relative_to(root).as_posix() or ".",
                        model_type=f"SavedModel signature {key}",
                        **provenance(tf.__version__))


def savedmodel_dir(model_dir: Path, *, exclude: Path | None = None) -> Path:
    """The folder holding saved_model.pb: model_dir itself or the only one below it.

    Raises
    ------
    ConversionError
        None or several.
    """
    if (model_dir / "saved_model.pb").is_file():
        return model_dir
    found = locate.only_file(model_dir, lambda p: p.name == "saved_model.pb",
                             "SavedModel (saved_model.pb)", exclude=exclude)
    return found.parent


def serving_function(loaded: Any) -> tuple[str, Any]:
    """The signature to serve: serving_default, else the only one there is.

    Raises
    ------
    ConversionError
        No signature, or several and none is serving_default.
    """
    signatures = dict(loaded.signatures)
    if SERVING in signatures:
        return SERVING, signatures[SERVING]
    if len(signatures) == 1:
        return next(iter(signatures.items()))
    raise ConversionError(f"the SavedModel has signatures {sorted(signatures)} and none is "
                          f"{SERVING}; save it with signatures={{'{SERVING}': ...}} or give "
                          "the tf.function an input_signature")


def signature_specs(function: Any) -> list[TensorSpec]:
    """The signature's inputs by name, dynamic dimensions as -1."""
    _, named = function.structured_input_signature
    return [TensorSpec(name, datatype_of(spec.dtype.as_numpy_dtype),
                       None if spec.shape.rank is None
                       else tuple(-1 if d is None else int(d) for d in spec.shape.as_list()))
            for name, spec in sorted(named.items())]


def call_signature(function: Any, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The signature's outputs by name for numpy feeds."""
    import tensorflow as tf

    outputs = function(**{name: tf.constant(value) for name, value in feeds.items()})
    return {name: value.numpy() for name, value in outputs.items()}


def savedmodel_to_onnx(saved: Path, out_dir: Path, signature: str = SERVING) -> Path:
    """Convert one signature of a SavedModel to out_dir/model.onnx, inputs and outputs
    named after the signature's keys.

    Raises
    ------
    ConversionError
        tf2onnx cannot convert it; the message names the operation when tf2onnx does.
    """
    from tf2onnx import tf_loader
    from tf2onnx.convert import _convert_common

    # The two steps of tf2onnx's own `--saved-model` command: load and freeze the
    # signature's graph, then convert it with the lookup tables the SavedModel
    # initialises (string vocabularies) and the renames to the signature's keys.
    try:
        graph_def, inputs, outputs, tables, renames = tf_loader.from_saved_model(
            str(saved), None, None, signatures=[signature], return_initialized_tables=True,
            return_tensors_to_rename=True)
        proto, _ = _convert_common(graph_def, name=saved.name, input_names=inputs,
                                   output_names=outputs, tensors_to_rename=renames,
                                   initialized_tables=tables)
    except Exception as exc:  # tf2onnx raises many types; its message names the op
        raise ConversionError(f"tf2onnx cannot convert the SavedModel: {_first_line(exc)}") \
            from exc
    return save_model(proto, out_dir)


def provenance(framework_version: str) -> dict:
    """The converter and framework versions for the report."""
    import tf2onnx

    return {"converter": f"tf2onnx {tf2onnx.__version__} (SavedModel)",
            "framework_version": framework_version}


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text.splitlines()[0][:500]}"
