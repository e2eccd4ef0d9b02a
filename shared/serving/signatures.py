"""What an ONNX model takes and returns, in Open Inference Protocol v2 terms."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

# onnxruntime's type strings -> Open Inference Protocol v2 datatype names.
ORT_TO_OIP = {
    "tensor(float)": "FP32", "tensor(double)": "FP64", "tensor(float16)": "FP16",
    "tensor(bfloat16)": "BF16", "tensor(int8)": "INT8", "tensor(int16)": "INT16",
    "tensor(int32)": "INT32", "tensor(int64)": "INT64", "tensor(uint8)": "UINT8",
    "tensor(uint16)": "UINT16", "tensor(uint32)": "UINT32", "tensor(uint64)": "UINT64",
    "tensor(bool)": "BOOL", "tensor(string)": "BYTES",
}

# Open Inference Protocol v2 datatype -> numpy dtype name. BF16 has no numpy twin.
OIP_TO_NUMPY = {
    "FP32": "float32", "FP64": "float64", "FP16": "float16", "INT8": "int8",
    "INT16": "int16", "INT32": "int32", "INT64": "int64", "UINT8": "uint8",
    "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64", "BOOL": "bool",
    "BYTES": "object",
}

FLOATS = frozenset({"FP16", "FP32", "FP64", "BF16"})
INTEGERS = frozenset({"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"})


def oip_datatype(ort_type: str) -> str:
    """The OIP datatype for an onnxruntime type string.

    ZipMap outputs (a sequence of label -> probability maps) are served as an FP32
    matrix, so they get FP32; any other non-tensor type keeps its ONNX spelling.
    """
    if ort_type in ORT_TO_OIP:
        return ORT_TO_OIP[ort_type]
    if ort_type.startswith("seq(map(") and ort_type.endswith("tensor(float)))"):
        return "FP32"
    return ort_type


@dataclass(frozen=True)
class TensorSpec:
    """One input or output: its name, OIP datatype and shape (-1 for a dynamic dim)."""

    name: str
    datatype: str
    shape: tuple[int, ...] | None  # None: onnxruntime does not know the rank

    @classmethod
    def from_node_arg(cls, arg: Any) -> "TensorSpec":
        """Build from an onnxruntime NodeArg (`session.get_inputs()` item)."""
        shape = arg.shape
        if arg.type.startswith("seq(map("):
            shape = [None, None]
        dims = None if shape is None else tuple(
            d if isinstance(d, int) and d >= 0 else -1 for d in shape)
        return cls(arg.name, oip_datatype(arg.type), dims)

    def to_dict(self) -> dict:
        """JSON-friendly form: {"name", "datatype", "shape"}."""
        shape = None if self.shape is None else list(self.shape)
        return {"name": self.name, "datatype": self.datatype, "shape": shape}


@dataclass(frozen=True)
class ModelSignature:
    """The inputs and outputs of an ONNX model, in the order the graph declares them."""

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    @classmethod
    def from_session(cls, session: Any) -> "ModelSignature":
        """Read the signature of a loaded `onnxruntime.InferenceSession`."""
        return cls(tuple(TensorSpec.from_node_arg(a) for a in session.get_inputs()),
                   tuple(TensorSpec.from_node_arg(a) for a in session.get_outputs()))

    def input(self, name: str) -> TensorSpec | None:
        """The input called name, or None."""
        return next((spec for spec in self.inputs if spec.name == name), None)

    @property
    def input_names(self) -> list[str]:
        return [spec.name for spec in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [spec.name for spec in self.outputs]

    def to_dict(self) -> dict:
        """JSON-friendly form: {"inputs": [...], "outputs": [...]}."""
        return {"inputs": [s.to_dict() for s in self.inputs],
                "outputs": [s.to_dict() for s in self.outputs]}


def load_session(onnx_path: Path, providers: list[str] | None = None) -> Any:
    """Open an onnxruntime session on the CPU unless other providers are named.

    Raises
    ------
    NotFound
        No file at onnx_path.
    InvalidModel
        onnxruntime cannot load the file.
    """
    import onnxruntime  # heavy: only when a model is actually loaded

    from shared.domain.errors import NotFound
    from shared.serving.errors import InvalidModel

    path = Path(onnx_path)
    if not path.is_file():
        raise NotFound(f"no ONNX model at {path}")
    try:
        return onnxruntime.InferenceSession(
            str(path), _session_options(onnxruntime),
            providers=providers or ["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        raise InvalidModel(f"cannot load ONNX model {path.name}: {exc}") from exc


def _session_options(onnxruntime: Any) -> Any:
    # Requests already run side by side, one thread each. onnxruntime's own pool would
    # spin-wait between ops on every run: with tiny models on few cores that burns the
    # CPU the other requests (and the HTTP server) need.
    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def signature(onnx_path: Path) -> dict:
    """The JSON-friendly signature of the ONNX model at onnx_path.

    Returns
    -------
    dict
        {"inputs": [{"name", "datatype", "shape"}], "outputs": [...]}, datatypes in
        Open Inference Protocol v2 names and -1 for dynamic dimensions.

    Raises
    ------
    NotFound, InvalidModel
        As `load_session`.
    """
    return ModelSignature.from_session(load_session(Path(onnx_path))).to_dict()
