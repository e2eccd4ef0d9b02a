"""What a model's tags say about its conversion. Azure ML tags are strings, so every
value may arrive as text ("0.001", "[1, 64]") or already decoded."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from shared.onnx.conversion import ConversionError


@dataclass(frozen=True)
class ConversionOptions:
    """Parity settings: tolerances, the number of generated samples, their seed, and
    optional sample rows or input shape from the tags."""

    rtol: float = 1e-3
    atol: float = 1e-5
    n_samples: int = 32
    seed: int = 0
    sample_input: list | None = None
    sample_input_shape: list[int] | None = None

    @classmethod
    def from_tags(cls, tags: dict) -> "ConversionOptions":
        """Read `parity_rtol`, `parity_atol`, `sample_input` and `sample_input_shape`.

        Raises
        ------
        ConversionError
            A tag that is present but not of the expected form.
        """
        return cls(rtol=_tolerance(tags, "parity_rtol", cls.rtol),
                   atol=_tolerance(tags, "parity_atol", cls.atol),
                   sample_input=_rows(tags.get("sample_input")),
                   sample_input_shape=_shape(tags.get("sample_input_shape")))

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


def _shape(raw: Any) -> list[int] | None:
    if raw in (None, ""):
        return None
    shape = _decoded(raw, "sample_input_shape")
    if not (isinstance(shape, list) and shape and all(
            isinstance(d, int) and not isinstance(d, bool) for d in shape)):
        raise ConversionError(f"tag sample_input_shape must look like [1, 64], got {raw!r}")
    return shape
