"""An MLflow model folder: its `MLmodel` file names the flavor's files and may carry a
signature, which says what the model takes when no tag does."""
from __future__ import annotations

import json
from pathlib import Path

from shared.onnx.conversion import ConversionError
from shared.onnx.feeds import datatype_of
from shared.onnx.options import normalise_dtype
from shared.serving.signatures import TensorSpec

# MLflow's column types (ColSpec) -> numpy dtype names.
COLUMN_TYPES = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32",
                "boolean": "bool", "string": "str"}


def read_mlmodel(path: Path) -> dict:
    """The parsed MLmodel file.

    Raises
    ------
    ConversionError
        The file cannot be read or is not YAML.
    """
    import yaml  # PyYAML ships with mlflow-skinny; only needed for MLflow models

    from shared import bounded_yaml  # a file a job wrote: nesting is bounded

    try:
        return bounded_yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConversionError(f"cannot read {path.name}: {exc}") from exc


def flavor(mlmodel: Path, name: str) -> dict:
    """The settings of one flavor (`sklearn`, `pytorch`, ...).

    Raises
    ------
    ConversionError
        The model has no such flavor.
    """
    flavors = read_mlmodel(mlmodel).get("flavors") or {}
    found = flavors.get(name)
    if not isinstance(found, dict):
        raise ConversionError(f"the MLflow model has no {name} flavor (flavors: "
                              f"{sorted(flavors)})")
    return found


def signature_inputs(mlmodel: Path) -> list[TensorSpec] | None:
    """The inputs the MLflow signature declares, or None without a signature.

    A tensor signature gives one spec per tensor; a column signature (a table) becomes
    one [-1, columns] input of the columns' common type.

    Raises
    ------
    ConversionError
        A signature that cannot be read, or columns of mixed types.
    """
    raw = (read_mlmodel(mlmodel).get("signature") or {}).get("inputs")
    if not raw:
        return None
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise ConversionError(f"the MLflow signature's inputs are not JSON: {exc}") from exc
    tensors = [i for i in items if i.get("type") == "tensor"]
    if tensors:
        return [_tensor(item, i, len(tensors)) for i, item in enumerate(tensors)]
    kinds = {COLUMN_TYPES.get(str(i.get("type")), "") for i in items}
    if len(kinds) != 1 or "" in kinds:
        raise ConversionError(f"the MLflow signature's columns have types "
                              f"{sorted(str(i.get('type')) for i in items)}; a tensor "
                              "model takes one type: set sample_input_shape and "
                              "sample_input_dtype tags")
    return [TensorSpec("input", datatype_of(kinds.pop()), (-1, len(items)))]


def _tensor(item: dict, index: int, count: int) -> TensorSpec:
    spec = item.get("tensor-spec") or {}
    shape = spec.get("shape")
    name = item.get("name") or ("input" if count == 1 else f"input_{index}")
    dims = None if shape is None else tuple(int(d) for d in shape)
    dtype = normalise_dtype(str(spec.get("dtype", "float32")), "the MLflow signature")
    return TensorSpec(name, datatype_of(dtype), dims)
