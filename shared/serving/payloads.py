"""Read the three request bodies a deployment accepts into onnxruntime feeds.

- Azure ML v1 no-code: {"data": [[...], ...]}
- Azure ML v2: {"input_data": rows | pandas split orient | {input name: rows}}
- Open Inference Protocol v2: {"id"?, "inputs": [{"name", "shape", "datatype", "data"}],
  "outputs"?: [{"name"}]}
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.serving.errors import BadRequest
from shared.serving.signatures import OIP_TO_NUMPY, ModelSignature, TensorSpec
from shared.serving.tensors import MAX_ROWS, castable, to_tensor

SHAPES = ('{"data": [[...]]} (Azure ML v1), {"input_data": ...} (Azure ML v2) or '
          '{"inputs": [{"name", "shape", "datatype", "data"}]} (Open Inference Protocol v2)')


@dataclass(frozen=True)
class ScoringRequest:
    """A parsed request: which protocol answers it, and the arrays to feed."""

    protocol: str  # "v1", "v2" or "oip"
    feeds: dict[str, np.ndarray]
    request_id: str | None = None
    output_names: tuple[str, ...] = field(default=())


def parse_request(body: Any, sig: ModelSignature, *, max_rows: int = MAX_ROWS) -> ScoringRequest:
    """Parse a JSON body into feeds of the model's dtypes and shapes.

    Parameters
    ----------
    body
        The decoded JSON request.
    sig
        The model's signature.
    max_rows
        The most rows (first dimension) one input may carry.

    Returns
    -------
    ScoringRequest

    Raises
    ------
    BadRequest
        The body is not a JSON object, matches none of the three shapes, or its
        values do not fit the model's inputs; the message says which.
    """
    if not isinstance(body, dict):
        raise BadRequest(f"the request body must be a JSON object, got {_json_type(body)}")
    if "inputs" in body:
        return _open_inference(body, sig, max_rows)
    if "input_data" in body:
        return ScoringRequest("v2", _rows_or_named(body["input_data"], sig, max_rows, "input_data"))
    if "data" in body:
        return ScoringRequest("v1", _rows_or_named(body["data"], sig, max_rows, "data"))
    raise BadRequest(f"expected {SHAPES}; got keys {sorted(body)}")


def _rows_or_named(value: Any, sig: ModelSignature, max_rows: int, key: str) -> dict:
    if isinstance(value, dict):
        if "data" in value and sig.input("data") is None:
            return _split_orient(value, sig, max_rows)
        return _named(value, sig, max_rows)
    if not isinstance(value, list):
        raise BadRequest(f"'{key}' must be a list of rows or an object, got {_json_type(value)}")
    return {_only_input(sig).name: to_tensor(value, _only_input(sig), max_rows=max_rows)}


def _split_orient(frame: dict, sig: ModelSignature, max_rows: int) -> dict:
    """pandas `to_json(orient="split")`: columns name features, or inputs when the
    model takes one input per column."""
    rows, columns = frame["data"], frame.get("columns")
    if not isinstance(rows, list):
        raise BadRequest(f"'input_data.data' must be a list of rows, got {_json_type(rows)}")
    if columns is not None and not (isinstance(columns, list)
                                    and all(isinstance(c, str) for c in columns)):
        raise BadRequest("'input_data.columns' must be a list of column names")
    if columns is not None and len(sig.inputs) > 1 and set(columns) == set(sig.input_names):
        return _columns_as_inputs(rows, columns, sig, max_rows)
    spec = _only_input(sig)
    tensor = to_tensor(rows, spec, max_rows=max_rows)
    if columns is not None and len(columns) != tensor.shape[-1]:
        raise BadRequest(f"'input_data.columns' names {len(columns)} columns but the rows "
                         f"have {tensor.shape[-1]} values")
    return {spec.name: tensor}


def _columns_as_inputs(rows: list, columns: list, sig: ModelSignature, max_rows: int) -> dict:
    if not all(isinstance(row, list) and len(row) == len(columns) for row in rows):
        raise BadRequest(f"ragged rows: every row of 'input_data.data' needs "
                         f"{len(columns)} values, one per column")
    feeds = {}
    for i, name in enumerate(columns):
        spec = sig.input(name)
        # One value per row: a [-1] input takes them flat, a [-1, 1] one as rows.
        flat = spec.shape is not None and len(spec.shape) == 1
        values = [row[i] if flat else [row[i]] for row in rows]
        feeds[name] = to_tensor(values, spec, max_rows=max_rows)
    return feeds


def _named(mapping: dict, sig: ModelSignature, max_rows: int) -> dict:
    _check_names(list(mapping), sig)
    return {name: to_tensor(values, sig.input(name), max_rows=max_rows)
            for name, values in mapping.items()}


def _check_names(names: list[str], sig: ModelSignature) -> None:
    unknown = [name for name in names if sig.input(name) is None]
    if unknown:
        raise BadRequest(f"unknown input {unknown[0]!r}; the model's inputs are "
                         f"{sig.input_names}")
    missing = [name for name in sig.input_names if name not in names]
    if missing:
        raise BadRequest(f"missing input {missing[0]!r}; the model's inputs are "
                         f"{sig.input_names}")


def _only_input(sig: ModelSignature) -> TensorSpec:
    if len(sig.inputs) != 1:
        raise BadRequest(f"the model has {len(sig.inputs)} inputs {sig.input_names}; "
                         'send them by name: {"input_data": {"<input name>": [...]}}')
    return sig.inputs[0]


def _open_inference(body: dict, sig: ModelSignature, max_rows: int) -> ScoringRequest:
    items = body["inputs"]
    if not isinstance(items, list) or not items:
        raise BadRequest("'inputs' must be a non-empty list of "
                         '{"name", "shape", "datatype", "data"}')
    feeds: dict[str, np.ndarray] = {}
    for item in items:
        name, array = _oip_input(item, sig, max_rows)
        if name in feeds:
            raise BadRequest(f"input {name!r} is sent twice")
        feeds[name] = array
    _check_names(list(feeds), sig)
    request_id = body.get("id")
    return ScoringRequest("oip", feeds, None if request_id is None else str(request_id),
                          _requested_outputs(body.get("outputs"), sig))


def _oip_input(item: Any, sig: ModelSignature, max_rows: int) -> tuple[str, np.ndarray]:
    if not isinstance(item, dict) or not {"name", "shape", "datatype", "data"} <= set(item):
        raise BadRequest('each of \'inputs\' must be an object with "name", "shape", '
                         '"datatype" and "data"')
    name, shape, datatype = item["name"], item["shape"], item["datatype"]
    if not isinstance(name, str) or not isinstance(datatype, str):
        raise BadRequest("each of 'inputs' needs a string \"name\" and \"datatype\"")
    spec = sig.input(name)
    if spec is None:
        raise BadRequest(f"unknown input {name!r}; the model's inputs are {sig.input_names}")
    if not (isinstance(shape, list) and all(_is_dim(d) for d in shape)):
        raise BadRequest(f"input {name!r}: shape must be a list of non-negative integers, "
                         f"got {shape!r}")
    if datatype not in OIP_TO_NUMPY:
        raise BadRequest(f"input {name!r}: unknown datatype {datatype!r}; use one of "
                         f"{sorted(OIP_TO_NUMPY)}")
    if not castable(datatype, spec.datatype):
        raise BadRequest(f"input {name!r}: wrong datatype {datatype}; the model takes "
                         f"{spec.datatype}")
    values = item["data"] if isinstance(item["data"], list) else [item["data"]]
    flat = to_tensor(values, TensorSpec(name, datatype, None), max_rows=math.inf)
    if flat.size != math.prod(shape):
        raise BadRequest(f"input {name!r}: shape {shape} needs {math.prod(shape)} values, "
                         f"got {flat.size}")
    return name, to_tensor(flat.reshape(shape), spec, max_rows=max_rows)


def _requested_outputs(wanted: Any, sig: ModelSignature) -> tuple[str, ...]:
    if wanted is None:
        return ()
    names = [o.get("name") if isinstance(o, dict) else None for o in wanted] \
        if isinstance(wanted, list) else [None]
    for name in names:
        if name not in sig.output_names:
            raise BadRequest(f"unknown output {name!r}; the model's outputs are "
                             f"{sig.output_names}")
    return tuple(names)


def _is_dim(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             type(None): "null"}
    return names.get(type(value), "a number")
