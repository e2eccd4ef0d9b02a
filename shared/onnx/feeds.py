"""The inputs a tensor model's parity check runs on: given samples fitted to the
model's inputs, or values generated from their shapes and dtypes."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from shared.onnx.conversion import ConversionError
from shared.onnx.options import ConversionOptions
from shared.serving.responses import NUMPY_TO_OIP
from shared.serving.signatures import OIP_TO_NUMPY, ModelSignature, TensorSpec


def datatype_of(dtype: Any) -> str:
    """The Open Inference Protocol datatype of a numpy dtype (or its name); strings
    (numpy "str" or "object") are BYTES."""
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    if name.startswith(("str", "bytes", "object")):
        return "BYTES"
    if name not in NUMPY_TO_OIP:
        raise ConversionError(f"inputs of dtype {name} are not supported")
    return NUMPY_TO_OIP[name]


def parity_feeds(specs: list[TensorSpec], options: ConversionOptions) -> dict[str, np.ndarray]:
    """One array per input: the samples the options carry (the `sample_input` tag or a
    data asset), else `options.n_samples` generated rows.

    Raises
    ------
    ConversionError
        Samples that do not fit the inputs, or an input no values can be made for.
    """
    if options.sample_input is None:
        return _generated(specs, options)
    given = options.sample_input
    if not isinstance(given, dict):
        if len(specs) != 1:
            raise ConversionError(f"the model takes {len(specs)} inputs "
                                  f"{[s.name for s in specs]}; name them in the sample data")
        given = {specs[0].name: given}
    missing = [s.name for s in specs if s.name not in given]
    if missing:
        raise ConversionError(f"the sample data has no values for input '{missing[0]}' "
                              f"(it has {sorted(given)})")
    return {spec.name: fit(given[spec.name], spec) for spec in specs}


def fit(values: Any, spec: TensorSpec) -> np.ndarray:
    """Sample values as an array of spec's dtype: a single sample gets a batch axis, and
    flat rows are folded into the input's fixed dimensions (64 pixels into 1x8x8).

    Raises
    ------
    ConversionError
        Values that do not fit the input's shape or dtype.
    """
    try:
        array = np.asarray(values)
        if spec.datatype == "BYTES":
            array = array.astype(str).astype(object)
        else:
            array = array.astype(OIP_TO_NUMPY[spec.datatype])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConversionError(f"sample values for input '{spec.name}' are not "
                              f"{spec.datatype}: {exc}") from None
    if spec.shape is None:
        return array
    want = list(spec.shape)
    if array.ndim == len(want) - 1:
        array = array[np.newaxis]
    inner = want[1:]
    if array.ndim == 2 and len(want) > 2 and -1 not in inner \
            and array.shape[1] == math.prod(inner):
        array = array.reshape([-1, *inner])
    if array.ndim != len(want) or any(w not in (-1, g) for w, g in zip(want, array.shape)):
        raise ConversionError(f"sample values for input '{spec.name}' have shape "
                              f"{list(array.shape)}; the model takes {want}")
    return array


def with_shapes(specs: list[TensorSpec], options: ConversionOptions) -> list[TensorSpec]:
    """The specs with unknown dimensions (other than the batch) filled in from the
    `sample_input_shape` tag, one shape per input in order."""
    shapes = options.sample_input_shapes or ()
    filled = []
    for i, spec in enumerate(specs):
        tag = shapes[i] if i < len(shapes) else None
        if tag is not None and (spec.shape is None or len(spec.shape) == len(tag)):
            known = spec.shape or tuple(-1 for _ in tag)
            dims = (-1, *(k if k >= 0 else t for k, t in zip(known[1:], tag[1:])))
            spec = TensorSpec(spec.name, spec.datatype, tuple(dims))
        filled.append(spec)
    return filled


def _generated(specs: list[TensorSpec], options: ConversionOptions) -> dict[str, np.ndarray]:
    signature = ModelSignature(tuple(with_shapes(specs, options)), ())
    try:
        from shared.serving.samples import sample_feeds

        return sample_feeds(signature, n_rows=options.n_samples, seed=options.seed)
    except ValueError as exc:
        raise ConversionError(str(exc)) from exc
