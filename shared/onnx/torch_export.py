"""PyTorch -> ONNX with torch.onnx.export, a dynamic batch axis, then the parity gate.

Runs in the conversion child process only: it imports torch.
"""
from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from shared.onnx.conversion import ConversionError
from shared.onnx.feeds import parity_feeds
from shared.onnx.gate import check_parity
from shared.onnx.options import ConversionOptions
from shared.onnx.runtime import adopted
from shared.onnx.torch_load import TorchModel, input_specs, load_torch_model, torch_model_file
from shared.serving.signatures import TensorSpec

# The traced example's batch differs from the parity check's, so a batch size the trace
# baked into the graph shows up as a mismatch instead of passing unnoticed.
TRACE_ROWS = 3
MAX_WARNINGS = 3


def export_pytorch(model_dir: Path, out_dir: Path, options: ConversionOptions) -> dict:
    """Convert the PyTorch model in model_dir to out_dir/model.onnx and check parity.

    Returns
    -------
    dict
        The parity report; `passed` says whether it holds.

    Raises
    ------
    ConversionError
        No loadable model, inputs that cannot be told, an operator the exporter cannot
        translate, or an ONNX graph that does not take the model's inputs.
    """
    import torch

    source = torch_model_file(model_dir, exclude=out_dir)
    model = load_torch_model(source, model_dir)
    _inference_mode(model.module)
    specs = input_specs(model, model_dir, options)
    example = parity_feeds(specs, dataclasses.replace(
        options, sample_input=None, n_samples=TRACE_ROWS, seed=options.seed + 1))
    outputs = _run(model.module, specs, example)
    names = _output_names(options, len(outputs))
    warned: list[str] = []
    onnx_path = adopted(out_dir, options) or _export(model, specs, example, outputs, names,
                                                     out_dir / "model.onnx", warned)
    root = model_dir if model_dir.is_dir() else model_dir.parent
    return check_parity(
        "PyTorch", onnx_path, lambda feeds: _run(model.module, specs, feeds), specs, options,
        source=source.relative_to(root).as_posix() if source != root else source.name,
        model_type=f"{model.form} {type(model.module).__name__}",
        converter=f"torch.onnx.export (TorchScript exporter) {torch.__version__}",
        framework_version=torch.__version__, exporter_warnings=warned)


def _inference_mode(module: Any) -> None:
    try:
        module.eval()
    except NotImplementedError:
        # An ExportedProgram's module refuses train()/eval(): it was captured for
        # inference already, so marking it is enough for the exporter.
        module.training = False


def _run(module: Any, specs: list[TensorSpec], feeds: dict) -> list[np.ndarray]:
    import torch

    tensors = [torch.from_numpy(np.ascontiguousarray(feeds[s.name])) for s in specs]
    with torch.no_grad():
        return _flatten(module(*tensors))


def _flatten(value: Any) -> list[np.ndarray]:
    import torch

    if isinstance(value, torch.Tensor):
        return [value.detach().cpu().numpy()]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [array for item in value for array in _flatten(item)]
    raise ConversionError(f"the model returns a {type(value).__name__}; ONNX outputs are "
                          "tensors (or tuples, lists and dicts of them)")


def _output_names(options: ConversionOptions, count: int) -> list[str]:
    if options.output_names is not None:
        if len(options.output_names) != count:
            raise ConversionError(f"tag output_names names {len(options.output_names)} "
                                  f"outputs; the model returns {count}")
        return list(options.output_names)
    return ["output"] if count == 1 else [f"output_{i}" for i in range(count)]


def _export(model: TorchModel, specs: list[TensorSpec], example: dict, outputs: list,
            names: list[str], target: Path, warned: list[str]) -> Path:
    import torch

    # Only what runs with the example's batch varies with the batch.
    dynamic = {s.name: {0: "batch"} for s in specs}
    dynamic.update({name: {0: "batch"} for name, out in zip(names, outputs)
                    if out.ndim and out.shape[0] == TRACE_ROWS})
    args = tuple(torch.from_numpy(example[s.name]) for s in specs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # The TorchScript exporter: the torch.export-based one needs onnxscript,
            # which the conversion environment does not carry.
            torch.onnx.export(model.module, args, str(target), dynamo=False,
                              input_names=[s.name for s in specs], output_names=names,
                              dynamic_axes=dynamic, training=torch.onnx.TrainingMode.PRESERVE)
        except Exception as exc:  # the exporter raises many types; its message says which op
            raise ConversionError(f"torch.onnx.export cannot export the {model.form}: "
                                  f"{_first_line(exc)}") from exc
    warned.extend(_tracer_warnings(caught))
    return target


def _tracer_warnings(caught: list) -> list[str]:
    """What the tracer said it could not follow (NumPy calls, Python values), once each."""
    import torch

    found: list[str] = []
    for item in caught:
        if issubclass(item.category, torch.jit.TracerWarning):
            text = str(item.message).split(". ")[0].strip().rstrip(".") + "."
            if text not in found:
                found.append(text)
    return found[:MAX_WARNINGS]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text.splitlines()[0][:500]}"
