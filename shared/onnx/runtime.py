"""onnxruntime helpers shared by the converters (conversion child process only)."""
from __future__ import annotations

import os
import shutil
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


def adopted(out_dir: Path, options: Any) -> Path | None:
    """out_dir/model.onnx copied from the ONNX file the options name, if they name one:
    the parity gate then judges that file instead of a fresh conversion.

    Raises
    ------
    ConversionError
        The named file does not exist.
    """
    if options.onnx_file is None:
        return None
    source = Path(options.onnx_file)
    if not source.is_file():
        raise ConversionError(f"no ONNX file at {source}")
    target = out_dir / "model.onnx"
    if source.resolve() != target.resolve():
        shutil.copyfile(source, target)
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
