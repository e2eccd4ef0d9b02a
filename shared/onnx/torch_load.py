"""Find and load a PyTorch model, and tell what it takes.

Three forms are read: a TorchScript file (torch.jit.save), a whole pickled nn.Module
(torch.save(model), MLflow's pytorch flavor), and an ExportedProgram (torch.export.save).
Runs in the conversion child process only: it imports torch.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.onnx import locate
from shared.onnx.conversion import ConversionError
from shared.onnx.feeds import datatype_of
from shared.onnx.options import ConversionOptions
from shared.serving.signatures import TensorSpec

SUFFIXES = (".pt", ".pth", ".pt2", ".ts", ".torchscript")
SAVE_ADVICE = ("save TorchScript (torch.jit.script(model).save(path)), an ExportedProgram "
               "(torch.export.save) or define the model's class in a module saved beside it")


@dataclass(frozen=True)
class TorchModel:
    """A loaded model: what to call, its form, and the inputs an ExportedProgram
    records (None for the other forms, which do not know their inputs)."""

    module: Any
    form: str  # "TorchScript", "ExportedProgram" or "nn.Module"
    recorded_inputs: list[TensorSpec] | None = None


def torch_model_file(model_dir: Path, *, exclude: Path | None = None) -> Path:
    """model_dir itself when it is a file, the file an MLflow pytorch flavor names, or
    the only *.pt/*.pth/*.pt2/*.ts file in the folder tree.

    Raises
    ------
    ConversionError
        None or several candidates.
    """
    if model_dir.is_file():
        return model_dir
    mlmodel = locate.mlmodel_file(model_dir, exclude=exclude)
    if mlmodel is not None:
        from shared.onnx.mlflow_model import flavor

        data = mlmodel.parent / str(flavor(mlmodel, "pytorch").get("model_data", "data"))
        return data if data.is_file() else locate.only_file(
            data, lambda p: p.suffix in SUFFIXES, "PyTorch model files")
    return locate.only_file(model_dir, lambda p: p.suffix in SUFFIXES, "PyTorch model files",
                            exclude=exclude)


def load_torch_model(path: Path, model_dir: Path) -> TorchModel:
    """Load path as an ExportedProgram (.pt2), TorchScript, or a pickled module.

    Raises
    ------
    ConversionError
        The file is none of them, holds only weights (a state_dict), or pickles a
        class that cannot be imported here.
    """
    import torch

    if path.suffix == ".pt2":
        return _exported_program(path)
    try:
        return TorchModel(torch.jit.load(str(path), map_location="cpu"), "TorchScript")
    except RuntimeError:
        pass  # not a TorchScript archive: a pickle, or a program saved under another suffix
    try:
        return _exported_program(path)
    except ConversionError:
        pass
    return TorchModel(_unpickle(path, model_dir), "nn.Module")


def input_specs(model: TorchModel, model_dir: Path, options: ConversionOptions) -> list[TensorSpec]:
    """What the model takes: the `sample_input_shape`/`sample_input_dtype`/`input_names`
    tags, else an MLflow model's signature, else what an ExportedProgram recorded. The
    first dimension is the batch and stays dynamic.

    Raises
    ------
    ConversionError
        None of them says, or they disagree in count.
    """
    if options.sample_input_shapes:
        shapes = options.sample_input_shapes
        dtypes = options.sample_input_dtypes or ("float32",) * len(shapes)
        if len(dtypes) == 1:
            dtypes = dtypes * len(shapes)
        if len(dtypes) != len(shapes):
            raise ConversionError(f"tags give {len(shapes)} input shapes but {len(dtypes)} "
                                  "dtypes")
        names = _names(options.input_names, len(shapes))
        return [TensorSpec(n, datatype_of(d), (-1, *s[1:]))
                for n, d, s in zip(names, dtypes, shapes)]
    specs = _mlflow_inputs(model_dir) or model.recorded_inputs
    if not specs:
        raise ConversionError("cannot tell what the PyTorch model takes: add tags "
                              "sample_input_shape (such as [1, 64]) and sample_input_dtype "
                              "(float32 unless given), or log it with an MLflow signature")
    names = _names(options.input_names, len(specs)) if options.input_names else \
        [s.name for s in specs]
    return [TensorSpec(n, s.datatype, None if s.shape is None else (-1, *s.shape[1:]))
            for n, s in zip(names, specs)]


def _names(given: tuple[str, ...] | None, count: int) -> list[str]:
    if given is not None:
        if len(given) != count:
            raise ConversionError(f"tag input_names names {len(given)} inputs; the model "
                                  f"takes {count}")
        return list(given)
    return ["input"] if count == 1 else [f"input_{i}" for i in range(count)]


def _mlflow_inputs(model_dir: Path) -> list[TensorSpec] | None:
    folder = model_dir if model_dir.is_dir() else model_dir.parent
    mlmodel = locate.mlmodel_file(folder)
    if mlmodel is None:
        return None
    from shared.onnx.mlflow_model import signature_inputs

    return signature_inputs(mlmodel)


def _exported_program(path: Path) -> TorchModel:
    import torch

    try:
        program = torch.export.load(str(path))
    except Exception as exc:  # torch.export.load raises many types for foreign files
        raise ConversionError(f"could not load {path.name} as an ExportedProgram: "
                              f"{type(exc).__name__}: {str(exc)[:300]}") from exc
    return TorchModel(program.module(), "ExportedProgram", _recorded(program))


def _recorded(program: Any) -> list[TensorSpec]:
    """The user inputs of an ExportedProgram, symbolic dimensions as -1."""
    user = set(program.graph_signature.user_inputs)
    specs = []
    for node in program.graph.nodes:
        value = node.meta.get("val")
        if node.op != "placeholder" or node.name not in user or value is None:
            continue
        dims = tuple(d if isinstance(d, int) else -1 for d in value.shape)
        dtype = str(value.dtype).removeprefix("torch.")
        specs.append(TensorSpec(node.name, datatype_of(_numpy_name(dtype)), dims))
    return specs


def _numpy_name(torch_dtype: str) -> str:
    from shared.onnx.options import normalise_dtype

    return normalise_dtype(torch_dtype, "the ExportedProgram's input")


def _unpickle(path: Path, model_dir: Path) -> Any:
    import torch

    # A class saved beside the model (or in MLflow's code/ folder) must be importable.
    folder = model_dir if model_dir.is_dir() else model_dir.parent
    for extra in (folder / "code", folder, path.parent):
        if extra.is_dir() and str(extra) not in sys.path:
            sys.path.insert(0, str(extra))
    try:
        model = torch.load(str(path), map_location="cpu", weights_only=False)
    except AttributeError as exc:  # "Can't get attribute 'Net' on <module '__main__'>"
        raise ConversionError(f"could not load {path.name}: its class is not importable "
                              f"here ({exc}); {SAVE_ADVICE}") from exc
    except Exception as exc:  # unpickling can raise anything the pickled code raises
        raise ConversionError(f"could not load {path.name} as a PyTorch model: "
                              f"{type(exc).__name__}: {str(exc)[:300]}") from exc
    if isinstance(model, dict):
        raise ConversionError(f"{path.name} holds a state_dict (weights without the "
                              f"model's code); {SAVE_ADVICE}")
    if not isinstance(model, torch.nn.Module):
        raise ConversionError(f"{path.name} holds a {type(model).__name__}, not a "
                              "torch.nn.Module")
    return model
