"""onnx-convert: conversions that cannot succeed say why, and never raise."""
import pickle
import subprocess
import sys
import time

import joblib
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from shared.onnx import convert_model, framework_kind


class _Sleeps:
    """Unpickles into a nap: the loader hangs like a converter stuck on a huge model."""

    def __reduce__(self):
        return time.sleep, (60,)


class _Exits:
    """Unpickles into an interpreter exit: the child dies without a verdict."""

    def __reduce__(self):
        return sys.exit, ("native extension aborted while loading the model",)


def pickled(folder, obj, name="model.pkl"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(pickle.dumps(obj))
    return folder


@pytest.mark.parametrize("framework", ["Custom", "Multi", "LightGBM"])
def test_other_frameworks_are_not_supported_yet(tmp_path, framework):
    result = convert_model(tmp_path, tmp_path / "onnx", framework=framework, tags={})
    assert not result.ok
    assert result.reason == f"conversion of {framework} models is not supported yet"
    assert result.report["passed"] is False


def test_a_model_without_a_framework_is_not_supported_either(tmp_path):
    result = convert_model(tmp_path, tmp_path / "onnx", framework="", tags={})
    assert not result.ok and "no framework" in result.reason


def test_framework_names_are_case_insensitive():
    assert framework_kind("ScikitLearn") == framework_kind("SKLEARN") == "sklearn"
    assert framework_kind("onnx") == framework_kind("Onnx") == "onnx"
    assert framework_kind("TensorFlow") == framework_kind("tf") == "tensorflow"
    assert framework_kind("Keras") == "keras"
    assert framework_kind("PyTorch") == framework_kind("torch") == "pytorch"
    assert framework_kind("Custom") is None


def test_a_truncated_pickle_is_reported_with_the_file_and_the_error(tmp_path):
    X, y = load_iris(return_X_y=True)
    whole = pickle.dumps(LogisticRegression(max_iter=500).fit(X, y))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(whole[: len(whole) // 2])  # an upload cut short
    result = convert_model(folder, tmp_path / "onnx", framework="ScikitLearn", tags={})
    assert not result.ok
    assert result.reason.startswith("could not load model.pkl as a scikit-learn model: ")
    assert "EOFError" in result.reason or "UnpicklingError" in result.reason
    assert result.report["error"] == result.reason
    assert not (tmp_path / "onnx" / "model.onnx").exists()


def test_a_pickle_of_something_else_is_not_taken_for_a_model(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    joblib.dump({"weights": [1, 2, 3]}, folder / "model.joblib")
    result = convert_model(folder, tmp_path / "onnx", framework="ScikitLearn", tags={})
    assert not result.ok
    assert result.reason == "model.joblib holds a dict, not a fitted scikit-learn estimator"


def test_an_empty_model_folder_names_what_was_looked_for(tmp_path):
    (tmp_path / "model").mkdir()
    result = convert_model(tmp_path / "model", tmp_path / "onnx", framework="sklearn", tags={})
    assert not result.ok
    assert "no scikit-learn model in model" in result.reason
    assert "model.pkl" in result.reason


def test_malformed_tags_are_reported(tmp_path):
    X, y = load_iris(return_X_y=True)
    folder = tmp_path / "model"
    folder.mkdir()
    joblib.dump(LogisticRegression(max_iter=500).fit(X, y), folder / "model.pkl")
    result = convert_model(folder, tmp_path / "onnx", framework="sklearn",
                           tags={"parity_atol": "tight"})
    assert not result.ok
    assert result.reason == "tag parity_atol is not valid JSON: 'tight'"


def test_a_crashing_conversion_gives_the_tail_of_its_stderr(tmp_path):
    folder = pickled(tmp_path / "model", _Exits())
    result = convert_model(folder, tmp_path / "onnx", framework="ScikitLearn", tags={})
    assert not result.ok
    assert result.reason.startswith("conversion process failed with exit code 1")
    assert result.reason.endswith("native extension aborted while loading the model")
    assert not (tmp_path / "onnx" / "parity.json").exists()


def test_a_conversion_that_hangs_is_stopped_at_the_timeout(tmp_path):
    folder = pickled(tmp_path / "model", _Sleeps())
    started = time.monotonic()
    result = convert_model(folder, tmp_path / "onnx", framework="ScikitLearn", tags={},
                           timeout_s=4)
    assert time.monotonic() - started < 30
    assert not result.ok
    assert result.reason.startswith("conversion timed out after 4s")


def test_a_stale_verdict_from_an_earlier_try_is_never_read(tmp_path):
    out = tmp_path / "onnx"
    out.mkdir()
    (out / "parity.json").write_text('{"passed": true}')
    folder = pickled(tmp_path / "model", _Exits())
    result = convert_model(folder, out, framework="ScikitLearn", tags={})
    assert not result.ok


def test_importing_the_packages_loads_no_framework():
    code = ("import sys, shared.onnx, shared.serving; "
            "print(sorted(m for m in ('sklearn', 'skl2onnx', 'onnxruntime', 'onnx') "
            "if m in sys.modules))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
    assert shown.stdout.strip() == "[]"
