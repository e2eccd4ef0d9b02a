"""onnxruntime helpers shared by the converters (conversion child process only)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from shared.onnx.conversion import ConversionError


def save_model(model: Any, out_dir: Path) -> Path:
    """Write an ONNX ModelProto (or raw bytes) to out_dir/model.onnx atomically, so a
    reader never sees half a model."""
    data = model if isinstance(model, bytes) else model.SerializeToString()
    target = out_dir / "model.onnx"
    partial = out_dir / ".model.onnx.partial"
    partial.write_bytes(data)
    os.replace(partial, target)
    return target


def open_session(path: Path) -> Any:
    """An onnxruntime CPU session on path.

    Raises
    ------
    ConversionError
        onnxruntime cannot load it.
    """
    import onnxruntime

    try:
        return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's load errors are untyped
        raise ConversionError(f"onnxruntime cannot load the ONNX model: {exc}") from exc


def signature_of(session: Any) -> dict:
    """{"inputs": [...], "outputs": [...]} as the serving side describes them."""
    from shared.serving.signatures import ModelSignature

    return ModelSignature.from_session(session).to_dict()
