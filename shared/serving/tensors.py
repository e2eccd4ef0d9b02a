"""Turn JSON values into the arrays a model input takes, or say why they do not fit."""
from __future__ import annotations

from typing import Any

import numpy as np

from shared.serving.errors import BadRequest
from shared.serving.signatures import FLOATS, INTEGERS, OIP_TO_NUMPY, TensorSpec

MAX_ROWS = 10_000


def to_tensor(values: Any, spec: TensorSpec, *, max_rows: int = MAX_ROWS) -> np.ndarray:
    """Values (nested lists or an array) as an array of spec's dtype and shape.

    A single row for a batched input becomes a batch of one.

    Raises
    ------
    BadRequest
        Ragged rows, non-numeric values, too many rows, or a shape that does not fit.
    """
    if isinstance(values, list) and len(values) > max_rows:
        _too_many(len(values), max_rows)  # before numpy copies a huge body
    array = _as_array(values, spec)
    sent = list(array.shape)
    if spec.shape is not None and len(spec.shape) >= 2 and array.ndim == len(spec.shape) - 1:
        array = array[np.newaxis]
    if array.size == 0:
        raise BadRequest(f"input '{spec.name}': no values sent")
    _check_shape(array, spec, sent)
    if array.ndim and array.shape[0] > max_rows:
        _too_many(array.shape[0], max_rows)
    return _cast(array, spec)


def _as_array(values: Any, spec: TensorSpec) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    try:
        return np.asarray(values)
    except ValueError:  # numpy refuses inhomogeneous nesting
        raise BadRequest(f"input '{spec.name}': ragged rows; every row needs the same "
                         f"number of values (expected shape {_shape(spec)})") from None


def _check_shape(array: np.ndarray, spec: TensorSpec, sent: list[int]) -> None:
    if spec.shape is None:
        return
    fits = array.ndim == len(spec.shape)
    for want, got in zip(spec.shape, array.shape):  # a loop: no generator per request
        fits = fits and want in (-1, got)
    if not fits:
        raise BadRequest(f"input '{spec.name}': expected shape {_shape(spec)}, got {sent}")


def _cast(array: np.ndarray, spec: TensorSpec) -> np.ndarray:
    kind = array.dtype.kind
    if spec.datatype == "BYTES":
        if kind not in "UO" or not all(isinstance(v, str) for v in array.flat):
            raise BadRequest(f"input '{spec.name}' takes strings (BYTES)")
        return array.astype(object)
    if spec.datatype == "BOOL":
        if kind != "b":
            raise BadRequest(f"input '{spec.name}' takes true/false values (BOOL)")
        return array
    if kind not in "biuf":
        raise BadRequest(f"input '{spec.name}' takes numbers ({spec.datatype}); got a "
                         f"non-numeric value: {_first_non_number(array)!r}")
    if spec.datatype in INTEGERS:
        return _to_integers(array, spec)
    if spec.datatype not in OIP_TO_NUMPY:
        raise BadRequest(f"input '{spec.name}' has datatype {spec.datatype}, "
                         "which this server cannot feed")
    return array.astype(OIP_TO_NUMPY[spec.datatype])


def _to_integers(array: np.ndarray, spec: TensorSpec) -> np.ndarray:
    target = np.dtype(OIP_TO_NUMPY[spec.datatype])
    if array.dtype.kind == "f" and not np.all(np.mod(array, 1) == 0):
        raise BadRequest(f"input '{spec.name}' takes whole numbers ({spec.datatype})")
    limits = np.iinfo(target)
    if array.min() < limits.min or array.max() > limits.max:
        raise BadRequest(f"input '{spec.name}': values out of range for {spec.datatype}")
    return array.astype(target)


def castable(sent: str, wanted: str) -> bool:
    """Whether values declared as `sent` may feed an input of datatype `wanted`
    without losing meaning: same type, any number to a float, integer to integer
    (range checked on conversion)."""
    if sent == wanted:
        return True
    if wanted in FLOATS:
        return sent in FLOATS or sent in INTEGERS
    return wanted in INTEGERS and sent in INTEGERS


def _first_non_number(array: np.ndarray) -> Any:
    for value in array.flat:
        if not isinstance(value, (bool, int, float, np.number, np.bool_)):
            return value.item() if isinstance(value, np.generic) else value
    return None


def _shape(spec: TensorSpec) -> list[int] | None:
    return None if spec.shape is None else list(spec.shape)


def _too_many(rows: int, max_rows: int) -> None:
    raise BadRequest(f"too many rows: {rows}; at most {max_rows} per request")
