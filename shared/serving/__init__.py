"""Scoring: ONNX models behind the Azure ML v1/v2 and Open Inference Protocol v2 bodies.

The names below load on first use, so importing `shared.serving` (as the function
app does at start-up) costs nothing; onnxruntime itself loads with the first model.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from shared.serving.errors import BadRequest, InvalidModel

_LAZY = {
    "Scorer": "shared.serving.scorer",
    "ModelSignature": "shared.serving.signatures",
    "TensorSpec": "shared.serving.signatures",
    "signature": "shared.serving.signatures",
    "parse_request": "shared.serving.payloads",
    "ScoringRequest": "shared.serving.payloads",
    "MAX_ROWS": "shared.serving.tensors",
}

__all__ = ["BadRequest", "InvalidModel", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'shared.serving' has no attribute {name!r}")
    return getattr(import_module(_LAZY[name]), name)
