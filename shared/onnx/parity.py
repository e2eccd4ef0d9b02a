"""Compare the ONNX model's answers with the original's and write them up."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from shared.onnx.options import ConversionOptions


def report(framework: str, n_samples: int, options: ConversionOptions, **figures: Any) -> dict:
    """A parity report with every field present, figures JSON-safe (NaN/inf -> None).

    Returns
    -------
    dict
        {"framework", "n_samples", "max_abs_diff", "max_rel_diff", "label_agreement",
        "rtol", "atol", "passed", "inputs", "outputs"} plus any extra figures given.
    """
    base = {"framework": framework, "n_samples": n_samples, "max_abs_diff": None,
            "max_rel_diff": None, "label_agreement": None, "rtol": options.rtol,
            "atol": options.atol, "passed": False, "inputs": [], "outputs": []}
    base.update(figures)
    return {key: _json_safe(value) for key, value in base.items()}


def failure(framework: str, reason: str, options: ConversionOptions | None = None) -> dict:
    """The report of a conversion that never reached the parity check."""
    return report(framework, 0, options or ConversionOptions(), error=reason)


def compare(options: ConversionOptions, *, labels: tuple | None = None,
            values: tuple | None = None) -> dict:
    """Compare (original, onnx) pairs: labels must agree exactly, values within
    `np.allclose(onnx, original, rtol, atol)`.

    Parameters
    ----------
    labels
        (original labels, onnx labels), or None for a regressor.
    values
        (original numbers, onnx numbers): probabilities or regression predictions, or
        None when the original has neither (a classifier without predict_proba).

    Returns
    -------
    dict
        max_abs_diff, max_rel_diff, label_agreement and passed.
    """
    figures: dict[str, Any] = {"passed": True}
    if labels is not None:
        original, converted = (np.asarray(x).reshape(-1) for x in labels)
        agree = _same_labels(original, converted)
        figures["label_agreement"] = float(np.mean(agree)) if agree.size else 0.0
        figures["passed"] = bool(agree.size and agree.all())
    if values is not None:
        original = np.asarray(values[0], dtype=np.float64)
        converted = np.asarray(values[1], dtype=np.float64)
        if converted.size == original.size:
            converted = converted.reshape(original.shape)
        if converted.shape != original.shape:
            figures.update(passed=False, error=f"the ONNX model returns shape "
                           f"{list(converted.shape)} where the original gives "
                           f"{list(original.shape)}")
            return figures
        diff = np.abs(converted - original)
        # Only where the original exceeds atol: for values at float32 noise level (a
        # probability of 1e-30 that comes back as 0) a relative error means nothing.
        relative = np.divide(diff, np.abs(original), out=np.zeros_like(diff),
                             where=np.abs(original) > max(options.atol, 1e-12))
        figures["max_abs_diff"] = float(diff.max()) if diff.size else 0.0
        figures["max_rel_diff"] = float(relative.max()) if relative.size else 0.0
        close = np.allclose(converted, original, rtol=options.rtol, atol=options.atol)
        figures["passed"] = bool(figures["passed"] and close)
    return figures


def compare_outputs(options: ConversionOptions, names: list[str], original: list,
                    converted: list) -> dict:
    """Compare every output of a tensor model, pairing them by position: floating
    outputs within tolerance, integer and boolean ones (class ids, masks) exactly.

    Returns
    -------
    dict
        The worst max_abs_diff and max_rel_diff over the floating outputs, the lowest
        label_agreement over the others, passed, and per_output: the same figures for
        each output by name, so a reason can say which one disagrees.
    """
    if len(original) != len(converted):
        return {"passed": False, "error": f"the ONNX model has {len(converted)} outputs "
                                          f"where the original has {len(original)}"}
    per_output = []
    for name, expected, actual in zip(names, original, converted):
        expected, actual = np.asarray(expected), np.asarray(actual)
        exact = expected.dtype.kind in "biuUSO" and actual.dtype.kind in "biuUSO"
        figures = compare(options, labels=(expected, actual)) if exact \
            else compare(options, values=(expected, actual))
        if figures.get("error"):
            return {"passed": False, "error": f"output '{name}': {figures['error']}"}
        per_output.append({"name": name, **{k: figures.get(k) for k in (
            "max_abs_diff", "max_rel_diff", "label_agreement", "passed")}})
    return {"passed": all(o["passed"] for o in per_output),
            "max_abs_diff": _worst(per_output, "max_abs_diff", max),
            "max_rel_diff": _worst(per_output, "max_rel_diff", max),
            "label_agreement": _worst(per_output, "label_agreement", min),
            "per_output": per_output}


def _worst(per_output: list[dict], key: str, pick) -> float | None:
    values = [o[key] for o in per_output if o[key] is not None]
    return pick(values) if values else None


def _same_labels(original: np.ndarray, converted: np.ndarray) -> np.ndarray:
    if original.shape != converted.shape:
        return np.zeros(0, dtype=bool)
    # String labels come back from onnxruntime as str objects, numbers as int64.
    if original.dtype.kind in "USO" or converted.dtype.kind in "USO":
        return np.array([str(a) == str(b) for a, b in zip(original, converted)], dtype=bool)
    return original == converted


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value
