"""The demo's three ways through the lifecycle: the same digits, trained by a
scikit-learn, a PyTorch and a Keras job, each served by its own no-code endpoint."""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Callable


def _version(package: str) -> str:
    # From the package's metadata: importing torch or tensorflow here would cost seconds.
    try:
        return version(package)
    except PackageNotFoundError:
        return ""


def _argmax(rows: list) -> list[int]:
    return [max(range(len(row)), key=row.__getitem__) for row in rows]


def _labels(answer: list) -> list[int]:
    return [int(label) for label in answer]


def _oip_argmax(answer: dict) -> list[int]:
    (logits,) = answer["outputs"]
    width = logits["shape"][1]
    data = logits["data"]
    return _argmax([data[i:i + width] for i in range(0, len(data), width)])


def _rows(pixels: list[list[float]]) -> dict:
    return {"data": pixels}


def _v2_rows(pixels: list[list[float]]) -> dict:
    return {"input_data": pixels}


def _images(pixels: list[list[float]]) -> dict:
    """Open Inference Protocol v2: the rows as a [N, 1, 8, 8] tensor, data flat."""
    flat = [value for row in pixels for value in row]
    return {"inputs": [{"name": "input", "shape": [len(pixels), 1, 8, 8],
                        "datatype": "FP32", "data": flat}]}


@dataclass(frozen=True)
class Workload:
    """One framework's job, model and endpoint, and how its endpoint is asked.

    request builds a scoring body from rows of 64 pixels; predicted reads the
    digits out of the answer.
    """

    framework: str
    folder: str  # under shared/demo/: job.yml, src/, endpoint.yml, deployment.yml
    model: str
    endpoint: str
    request: Callable[[list], dict]
    predicted: Callable[[object], list[int]]
    tags: dict = field(default_factory=dict)


WORKLOADS = (
    Workload("scikit-learn", "digits", "digits-classifier", "digits", _rows, _labels,
             {"framework": "ScikitLearn", "framework_version": _version("scikit-learn")}),
    Workload("PyTorch", "torch", "digits-torch", "digits-torch", _images, _oip_argmax,
             {"framework": "PyTorch", "framework_version": _version("torch"),
              "sample_input_shape": "[1, 1, 8, 8]", "sample_input_dtype": "float32"}),
    Workload("Keras", "keras", "digits-keras", "digits-keras", _v2_rows, _argmax,
             {"framework": "Keras", "framework_version": _version("keras")}),
)
