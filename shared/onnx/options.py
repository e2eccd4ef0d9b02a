"""What a model's tags say about its conversion. Azure ML tags are strings, so every
value may arrive as text ("0.001", "[1, 64]") or already decoded."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.onnx.conversion import ConversionError

# numpy dtype names a sample input may be declared with, and their spellings in the
# frameworks' own vocabulary (torch.float32, tf.int64, MLflow's "double").
DTYPES = {"float32": "float32", "float": "float32", "float64": "float64",
          "double": "float64", "float16": "float16", "half": "float16", "int64": "int64",
          "long": "int64", "int32": "int32", "int": "int32", "int16": "int16",
          "int8": "int8", "uint8": "uint8", "bool": "bool", "string": "str", "str": "str"}


@dataclass(frozen=True)
class ConversionOptions:
    """Parity settings and what the tags say about the model's inputs.

    sample_input holds sample values: rows (a list) from the `sample_input` tag, or an
    array or {input name: array} read from a registered data asset. The shapes, dtypes
    and names describe inputs a converter cannot read from the model itself (PyTorch).
    onnx_file, when set, is an ONNX file to check against the original instead of one
    the converter writes.
    """

    rtol: float = 1e-3
    atol: float = 1e-5
    n_samples: int = 32
    seed: int = 0
    sample_input: Any = None
    sample_input_shapes: tuple[tuple[int, ...], ...] | None = None
    sample_input_dtypes: tuple[str, ...] | None = None
    input_names: tuple[str, ...] | None = None
    output_names: tuple[str, ...] | None = None
    onnx_file: Path | None = None

    @classmethod
    def from_tags(cls, tags: dict, *, sample_data: Path | None = None,
                  onnx_file: Path | None = None) -> "ConversionOptions":
        """Read `parity_rtol`, `parity_atol`, `sample_input`, `sample_input_shape`,
        `sample_input_dtype`, `input_names` and `output_names`; sample_data (a file of
        a registered data asset) takes the place of the `sample_input` tag.

        Raises
        ------
        ConversionError
            A tag that is present but not of the expected form, or an unreadable
            sample data file.
        """
        from shared.onnx.sample_data import read_sample_data

        sample = read_sample_data(sample_data) if sample_data is not None \
            else _rows(tags.get("sample_input"))
        return cls(rtol=_tolerance(tags, "parity_rtol", cls.rtol),
                   atol=_tolerance(tags, "parity_atol", cls.atol),
                   sample_input=sample,
                   sample_input_shapes=_shapes(tags.get("sample_input_shape")),
                   sample_input_dtypes=_dtypes(tags.get("sample_input_dtype")),
                   input_names=_names(tags, "input_names"),
                   output_names=_names(tags, "output_names"),
                   onnx_file=onnx_file)

    @property
    def sample_input_shape(self) -> tuple[int, ...] | None:
        """The first input's shape from the `sample_input_shape` tag."""
        return self.sample_input_shapes[0] if self.sample_input_shapes else None

    @property
    def n_features(self) -> int | None:
        """The feature count the `sample_input_shape` tag gives (its last dimension)."""
        return self.sample_input_shape[-1] if self.sample_input_shape else None


def _decoded(value: Any, tag: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise ConversionError(f"tag {tag} is not valid JSON: {value[:80]!r}") from None


def _tolerance(tags: dict, tag: str, default: float) -> float:
    if tags.get(tag) in (None, ""):
        return default
    value = _decoded(tags[tag], tag)
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < 0:
        raise ConversionError(f"tag {tag} must be a non-negative number, got {tags[tag]!r}")
    return float(value)


def _rows(raw: Any) -> list | None:
    if raw in (None, ""):
        return None
    rows = _decoded(raw, "sample_input")
    if not isinstance(rows, list) or not rows:
        raise ConversionError("tag sample_input must be a JSON list of rows")
    return rows if isinstance(rows[0], list) else [rows]


def _shapes(raw: Any) -> tuple[tuple[int, ...], ...] | None:
    """One shape ([1, 64]) or one per input ([[1, 4], [1, 2]])."""
    if raw in (None, ""):
        return None
    shape = _decoded(raw, "sample_input_shape")
    shapes = shape if isinstance(shape, list) and shape and isinstance(shape[0], list) \
        else [shape]
    if not all(isinstance(s, list) and s and all(_is_dim(d) for d in s) for s in shapes):
        raise ConversionError(f"tag sample_input_shape must look like [1, 64] (or one such "
                              f"list per input), got {raw!r}")
    return tuple(tuple(s) for s in shapes)


def _is_dim(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= -1


def _dtypes(raw: Any) -> tuple[str, ...] | None:
    if raw in (None, ""):
        return None
    value = raw
    if isinstance(raw, str) and raw.lstrip().startswith("["):
        value = _decoded(raw, "sample_input_dtype")
    names = value if isinstance(value, list) else [value]
    return tuple(normalise_dtype(str(n), "tag sample_input_dtype") for n in names)


def normalise_dtype(name: str, where: str) -> str:
    """The numpy dtype name for "float32", "torch.float32", "tf.int64", "double"...

    Raises
    ------
    ConversionError
        A dtype sample values cannot be made for; where says whose it is.
    """
    key = name.strip().lower().rsplit(".", 1)[-1]
    if key not in DTYPES:
        raise ConversionError(f"{where}: unknown dtype {name!r}; use one of "
                              f"{sorted(set(DTYPES.values()))}")
    return DTYPES[key]


def _names(tags: dict, tag: str) -> tuple[str, ...] | None:
    raw = tags.get(tag)
    if raw in (None, ""):
        return None
    value = _decoded(raw, tag) if isinstance(raw, str) and raw.lstrip().startswith("[") \
        else raw
    names = value if isinstance(value, list) else str(value).split(",")
    names = [str(n).strip() for n in names]
    if not all(names) or len(set(names)) != len(names):
        raise ConversionError(f"tag {tag} must name each tensor once, got {raw!r}")
    return tuple(names)
