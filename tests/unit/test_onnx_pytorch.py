"""onnx-convert for PyTorch: TorchScript, whole pickled modules and ExportedPrograms go
through torch.onnx.export and the parity gate; what cannot be exported says why."""
import importlib.util
import json
import sys

import pytest

from shared.onnx import convert_model

torch = pytest.importorskip("torch")

NETS = '''
import numpy as np
import torch


class SumAndCount(torch.nn.Module):
    """Two inputs, two outputs: a float sum and an integer count."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Linear(3, 1)

    def forward(self, values, flags):
        return self.scale(values) + flags.sum(1, keepdim=True), (flags > 0).sum(1)


class NumpyTanh(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        return torch.from_numpy(np.tanh(self.fc(x).detach().numpy()))


class Svd(torch.nn.Module):
    def forward(self, x):
        return torch.linalg.svd(x)[1]
'''


def mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))


def nets(folder):
    """The module classes above, importable as `tiny_nets` here and, because the file
    lies beside the pickled model, in the converting process too."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny_nets.py").write_text(NETS)
    spec = importlib.util.spec_from_file_location("tiny_nets", folder / "tiny_nets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["tiny_nets"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def torchscript(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlp") / "model"
    folder.mkdir()
    torch.jit.script(mlp().eval()).save(str(folder / "model.pt"))
    out = folder.parent / "onnx"
    tags = {"sample_input_shape": "[1, 64]", "sample_input_dtype": "float32"}
    return convert_model(folder, out, framework="PyTorch", tags=tags), folder, out, tags


def test_a_torchscript_mlp_converts_with_a_dynamic_batch_and_passes_parity(torchscript):
    result, _, out, _ = torchscript
    assert result.ok, result.reason
    report = result.report
    assert report["framework"] == "PyTorch"
    assert report["model_type"] == "TorchScript RecursiveScriptModule"
    assert report["converter"].startswith("torch.onnx.export")
    assert report["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 64]}]
    assert report["outputs"] == [{"name": "output", "datatype": "FP32", "shape": [-1, 10]}]
    assert report["n_samples"] == 32 and report["max_abs_diff"] <= 1e-5
    assert json.loads((out / "parity.json").read_text()) == report


def test_a_perturbed_onnx_file_fails_the_gate(torchscript, tmp_path):
    import onnx
    from onnx import numpy_helper

    _, folder, out, tags = torchscript
    model = onnx.load(str(out / "model.onnx"))
    weights = model.graph.initializer[0]
    changed = numpy_helper.to_array(weights) + 0.01  # what a bad quantiser might do
    weights.CopyFrom(numpy_helper.from_array(changed, weights.name))
    onnx.save(model, str(tmp_path / "perturbed.onnx"))
    result = convert_model(folder, tmp_path / "onnx", framework="PyTorch", tags=tags,
                           onnx_file=tmp_path / "perturbed.onnx")
    assert not result.ok
    assert result.reason.startswith("ONNX parity check failed: output 'output' differs")
    assert "max_abs_diff=" in result.reason and "rtol=0.001, atol=1e-05" in result.reason
    assert result.report["max_abs_diff"] > 1e-3


def test_an_exported_program_brings_its_own_input_shape(tmp_path):
    torch.manual_seed(0)
    cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 8 * 8, 10)).eval()
    batch = torch.export.Dim("batch")
    program = torch.export.export(cnn, (torch.randn(2, 1, 8, 8),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(tmp_path / "cnn.pt2"))
    result = convert_model(tmp_path / "cnn.pt2", tmp_path / "onnx", framework="pytorch", tags={})
    assert result.ok, result.reason
    assert result.report["model_type"].startswith("ExportedProgram")
    (image,) = result.report["inputs"]
    assert (image["datatype"], image["shape"]) == ("FP32", [-1, 1, 8, 8])


def test_a_pickled_module_takes_named_inputs_of_two_dtypes_and_gives_named_outputs(tmp_path):
    folder = tmp_path / "model"
    torch.save(nets(folder).SumAndCount(), str(folder / "model.pth"))
    tags = {"sample_input_shape": "[[1, 3], [1, 5]]", "sample_input_dtype": '["float32", "int64"]',
            "input_names": "values,flags", "output_names": '["total", "count"]'}
    result = convert_model(folder, tmp_path / "onnx", framework="PyTorch", tags=tags)
    assert result.ok, result.reason
    assert result.report["model_type"] == "nn.Module SumAndCount"
    assert result.report["inputs"] == [
        {"name": "values", "datatype": "FP32", "shape": [-1, 3]},
        {"name": "flags", "datatype": "INT64", "shape": [-1, 5]}]
    assert [o["name"] for o in result.report["outputs"]] == ["total", "count"]
    total, count = result.report["per_output"]
    assert total["max_abs_diff"] is not None and count["label_agreement"] == 1.0


def test_an_mlflow_model_says_what_it_takes_through_its_signature(tmp_path):
    folder = tmp_path / "model"
    (folder / "data").mkdir(parents=True)
    torch.save(mlp().eval(), str(folder / "data" / "model.pth"))
    inputs = json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "float32",
                                                            "shape": [-1, 64]}}])
    (folder / "MLmodel").write_text(
        "flavors:\n  pytorch:\n    model_data: data\n    pytorch_version: 2.13.0\n"
        f"signature:\n  inputs: '{inputs}'\n")
    result = convert_model(folder, tmp_path / "onnx", framework="PyTorch", tags={})
    assert result.ok, result.reason
    assert result.report["source"] == "data/model.pth"
    assert result.report["inputs"][0]["shape"] == [-1, 64]


def test_an_operator_the_exporter_cannot_translate_is_named(tmp_path):
    folder = tmp_path / "model"
    torch.jit.script(nets(folder).Svd()).save(str(folder / "model.pt"))
    result = convert_model(folder, tmp_path / "onnx", framework="PyTorch",
                           tags={"sample_input_shape": "[1, 4]"})
    assert not result.ok
    assert result.reason.startswith("torch.onnx.export cannot export the TorchScript: "
                                    "UnsupportedOperatorError")
    assert "'aten::linalg_svd'" in result.reason


def test_a_forward_pass_through_numpy_fails_and_says_so(tmp_path):
    folder = tmp_path / "model"
    torch.save(nets(folder).NumpyTanh(), str(folder / "model.pt"))
    result = convert_model(folder, tmp_path / "onnx", framework="PyTorch",
                           tags={"sample_input_shape": "[1, 4]"})
    assert not result.ok
    assert "the ONNX model takes inputs [] where the original takes ['input']" in result.reason
    assert "Converting a tensor to a NumPy array" in result.reason


@pytest.mark.parametrize("saved, tags, reason", [
    ("state_dict", {"sample_input_shape": "[1, 64]"}, "model.pt holds a state_dict"),
    ("script", {}, "cannot tell what the PyTorch model takes: add tags sample_input_shape"),
    ("script", {"sample_input_dtype": "complex"}, "unknown dtype 'complex'"),
])
def test_what_cannot_be_converted_says_what_to_do(tmp_path, saved, tags, reason):
    folder = tmp_path / "model"
    folder.mkdir()
    if saved == "state_dict":
        torch.save(mlp().state_dict(), str(folder / "model.pt"))
    else:
        torch.jit.script(mlp()).save(str(folder / "model.pt"))
    result = convert_model(folder, tmp_path / "onnx", framework="PyTorch", tags=tags)
    assert not result.ok
    assert reason in result.reason
    assert not (tmp_path / "onnx" / "model.onnx").exists()

