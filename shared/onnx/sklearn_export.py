"""scikit-learn -> ONNX with skl2onnx, checked against the original's own answers.

Runs in the conversion child process only: it imports scikit-learn and skl2onnx.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shared.onnx import locate, parity
from shared.onnx.conversion import ConversionError
from shared.onnx.options import ConversionOptions
from shared.onnx.runtime import adopted, open_session, save_model, signature_of
from shared.serving.samples import random_rows

INPUT_NAME = "input"


def export_sklearn(model_dir: Path, out_dir: Path, options: ConversionOptions) -> dict:
    """Convert the scikit-learn model in model_dir to out_dir/model.onnx.

    Returns
    -------
    dict
        The parity report (see `parity.report`); `passed` says whether it holds.

    Raises
    ------
    ConversionError
        No model file, an unloadable one, or a model skl2onnx cannot convert.
    """
    source = locate.sklearn_model_file(model_dir, exclude=out_dir)
    model = load_estimator(source)
    n_features = _n_features(model, options)
    onnx_path = adopted(out_dir, options) or save_model(_to_onnx(model, n_features), out_dir)
    session = open_session(onnx_path)
    rows = _sample_rows(options, n_features)
    figures = _compare(model, rows, _run_onnx(session, rows), options)
    return parity.report("ScikitLearn", len(rows), options, **figures,
                         **signature_of(session), **_provenance(model, source, model_dir))


def _run_onnx(session: Any, rows: np.ndarray) -> list:
    try:
        return session.run(None, {INPUT_NAME: rows})
    except Exception as exc:  # onnxruntime's runtime errors are untyped
        raise ConversionError(f"the ONNX model fails on the sample input: {exc}") from exc


def _provenance(model: Any, source: Path, model_dir: Path) -> dict:
    import sklearn
    import skl2onnx

    root = model_dir if model_dir.is_dir() else model_dir.parent
    return {"source": source.relative_to(root).as_posix(), "model_type": type(model).__name__,
            "converter": f"skl2onnx {skl2onnx.__version__}",
            "framework_version": sklearn.__version__}


def load_estimator(path: Path) -> Any:
    """Unpickle the model with joblib (plain pickles load too).

    Raises
    ------
    ConversionError
        The file does not unpickle, or holds something without `predict`.
    """
    import joblib

    try:
        model = joblib.load(path)
    except Exception as exc:  # unpickling can raise anything the pickled code raises
        raise ConversionError(f"could not load {path.name} as a scikit-learn model: "
                              f"{describe(exc)}") from exc
    if not hasattr(model, "predict"):
        raise ConversionError(f"{path.name} holds a {type(model).__name__}, not a fitted "
                              "scikit-learn estimator")
    return model


def _n_features(model: Any, options: ConversionOptions) -> int:
    found = getattr(model, "n_features_in_", None) or options.n_features
    if not found:
        raise ConversionError(f"cannot tell how many features {type(model).__name__} takes: "
                              "add a sample_input_shape tag such as [1, 64]")
    return int(found)


def _to_onnx(model: Any, n_features: int) -> Any:
    from sklearn.base import is_classifier
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    inputs = [(INPUT_NAME, FloatTensorType([None, n_features]))]
    # Without ZipMap a classifier answers with a label tensor and a probability
    # tensor, which any client of the v2 protocol can read.
    options = {id(model): {"zipmap": False}} if is_classifier(model) else None
    try:
        return convert_sklearn(model, initial_types=inputs, options=options)
    except NameError as exc:
        # skl2onnx's way of saying an option does not apply: LinearSVC has no ZipMap
        # to turn off and already answers with plain tensors.
        if options is None or "zipmap" not in str(exc):
            raise ConversionError(_cannot(model, exc)) from exc
    except Exception as exc:  # skl2onnx raises many types for unsupported models
        raise ConversionError(_cannot(model, exc)) from exc
    try:
        return convert_sklearn(model, initial_types=inputs)
    except Exception as exc:  # as above
        raise ConversionError(_cannot(model, exc)) from exc


def _cannot(model: Any, exc: Exception) -> str:
    # skl2onnx appends paragraphs of advice; the first line names the problem.
    return f"skl2onnx cannot convert {type(model).__name__}: {describe(exc).splitlines()[0]}"


def describe(exc: BaseException) -> str:
    """"Type: message", or the type alone when the message is empty (EOFError)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _sample_rows(options: ConversionOptions, n_features: int) -> np.ndarray:
    if options.sample_input is None:
        rows = random_rows(options.n_samples, n_features, seed=options.seed)
    else:
        try:
            rows = np.asarray(options.sample_input, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConversionError("tag sample_input must be rows of numbers") from None
        if rows.ndim != 2 or rows.shape[1] != n_features:
            raise ConversionError(f"tag sample_input has shape {list(rows.shape)}; the "
                                  f"model takes [-1, {n_features}]")
    return rows.astype(np.float32)


def _compare(model: Any, rows: np.ndarray, outputs: list, options: ConversionOptions) -> dict:
    try:
        return _compare_with_original(model, rows, outputs, options)
    except Exception as exc:  # the original's own predict failing is the model's issue
        raise ConversionError(f"the original model fails on the sample input: "
                              f"{describe(exc)}") from exc


def _compare_with_original(model: Any, rows: np.ndarray, outputs: list,
                           options: ConversionOptions) -> dict:
    from sklearn.base import is_classifier

    # The original sees exactly the float32 values the ONNX model sees, so only the
    # model's own arithmetic is compared, not the cast of the inputs.
    features = rows.astype(np.float64)
    predicted = model.predict(features)
    if not is_classifier(model):
        return parity.compare(options, values=(predicted, outputs[0]))
    probabilities = None
    if hasattr(model, "predict_proba") and len(outputs) > 1:
        probabilities = (model.predict_proba(features), outputs[1])
    return parity.compare(options, labels=(predicted, outputs[0]), values=probabilities)
