"""Generated, seeded inputs for health checks and parity checks."""
from __future__ import annotations

import numpy as np

from shared.serving.signatures import FLOATS, INTEGERS, OIP_TO_NUMPY, ModelSignature, TensorSpec

# Features live on many scales (iris in centimetres, digits in 0..16 pixel counts);
# cycling the spread per row reaches more branches of a tree than unit noise alone.
_ROW_SCALES = (0.5, 1.0, 4.0, 16.0)


def random_rows(n_rows: int, n_features: int, *, seed: int = 0) -> np.ndarray:
    """n_rows x n_features float64 values, the same for the same seed."""
    rng = np.random.default_rng(seed)
    scales = np.resize(np.array(_ROW_SCALES), n_rows)
    return rng.standard_normal((n_rows, n_features)) * scales[:, np.newaxis]


def sample_feeds(sig: ModelSignature, *, n_rows: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
    """One generated array per model input: n_rows in a dynamic first dimension,
    1 in any other dynamic dimension.

    Raises
    ------
    ValueError
        An input of a datatype no value can be generated for (BF16, non-tensor types).
    """
    rng = np.random.default_rng(seed)
    return {spec.name: _sample(spec, n_rows, rng) for spec in sig.inputs}


def _sample(spec: TensorSpec, n_rows: int, rng: np.random.Generator) -> np.ndarray:
    dims = spec.shape if spec.shape is not None else (-1, 1)
    shape = tuple(d if d >= 0 else (n_rows if i == 0 else 1) for i, d in enumerate(dims))
    if spec.datatype in FLOATS and spec.datatype in OIP_TO_NUMPY:
        return rng.standard_normal(shape).astype(OIP_TO_NUMPY[spec.datatype])
    if spec.datatype in INTEGERS:
        return rng.integers(0, 10, size=shape).astype(OIP_TO_NUMPY[spec.datatype])
    if spec.datatype == "BOOL":
        return rng.random(shape) > 0.5
    if spec.datatype == "BYTES":
        return np.full(shape, "a", dtype=object)
    raise ValueError(f"cannot generate values for input '{spec.name}' ({spec.datatype})")
