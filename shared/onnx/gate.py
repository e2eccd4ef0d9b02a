"""The parity gate for tensor models (TensorFlow, Keras, PyTorch): the ONNX file and the
original answer the same inputs, and every output must agree within tolerance."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from shared.onnx import parity
from shared.onnx.conversion import ConversionError
from shared.onnx.feeds import parity_feeds
from shared.onnx.options import ConversionOptions
from shared.onnx.runtime import open_session
from shared.serving.signatures import OIP_TO_NUMPY, ModelSignature, TensorSpec

# The original model's own answer to feeds by input name: its outputs by name (paired
# with the ONNX outputs of the same names), or in the order of the ONNX outputs.
Original = Callable[[dict[str, np.ndarray]], "list[np.ndarray] | dict[str, np.ndarray]"]


def check_parity(framework: str, onnx_path: Path, original: Original,
                 specs: list[TensorSpec], options: ConversionOptions, **extra: Any) -> dict:
    """Run the ONNX file and the original on the same inputs and write up the result.

    Parameters
    ----------
    specs
        The original's inputs; the ONNX graph must take the same names.
    extra
        More fields for the report (source, converter, framework_version, ...).

    Returns
    -------
    dict
        The parity report; `passed` says whether every output agrees.

    Raises
    ------
    ConversionError
        The ONNX graph takes other inputs than the original, or either model fails
        on the sample inputs.
    """
    session = open_session(onnx_path)
    signature = ModelSignature.from_session(session)
    wanted = sorted(s.name for s in specs)
    if sorted(signature.input_names) != wanted:
        raise ConversionError(f"the ONNX model takes inputs {signature.input_names} where the "
                              f"original takes {wanted}{_warned(extra)}")
    feeds = parity_feeds(specs, options)
    converted = _run_onnx(session, signature, feeds)
    try:
        answer = original(feeds)
    except Exception as exc:  # the original's own failure is the model's issue
        raise ConversionError(f"the original {framework} model fails on the sample input: "
                              f"{type(exc).__name__}: {str(exc)[:500]}") from exc
    expected = _in_order(answer, signature.output_names)
    figures = parity.compare_outputs(options, signature.output_names, expected, converted)
    n_samples = len(next(iter(feeds.values()))) if feeds else 0
    return parity.report(framework, n_samples, options, **figures, **signature.to_dict(),
                         **extra)


def _in_order(answer: Any, names: list[str]) -> list[np.ndarray]:
    if not isinstance(answer, dict):
        return [np.asarray(value) for value in answer]
    if sorted(answer) != sorted(names):
        raise ConversionError(f"the ONNX model's outputs are {names} where the original's "
                              f"are {sorted(answer)}")
    return [np.asarray(answer[name]) for name in names]


def _run_onnx(session: Any, signature: ModelSignature, feeds: dict) -> list:
    typed = {spec.name: _as(feeds[spec.name], spec) for spec in signature.inputs}
    try:
        return session.run(None, typed)
    except Exception as exc:  # onnxruntime's runtime errors are untyped
        raise ConversionError(f"the ONNX model fails on the sample input: "
                              f"{str(exc)[:500]}") from exc


def _as(array: np.ndarray, spec: TensorSpec) -> np.ndarray:
    wanted = OIP_TO_NUMPY.get(spec.datatype)
    return array if wanted is None or array.dtype.name == wanted else array.astype(wanted)


def _warned(extra: dict) -> str:
    warned = extra.get("exporter_warnings") or []
    return f"; the exporter warned: {warned[0]}" if warned else ""
