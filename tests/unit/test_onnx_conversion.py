"""onnx-convert: real scikit-learn models, real skl2onnx, real onnxruntime."""
import json

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shared.onnx import ConversionResult, convert_model

REPORT_FIELDS = {"framework", "n_samples", "max_abs_diff", "max_rel_diff", "label_agreement",
                 "rtol", "atol", "passed", "inputs", "outputs"}


def saved(folder, model, name="model.pkl"):
    folder.mkdir(parents=True)
    joblib.dump(model, folder / name)
    return folder


def run_onnx(path, rows):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": np.asarray(rows, dtype=np.float32)})


@pytest.fixture(scope="module")
def iris_model():
    X, y = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=500).fit(X, y), X


@pytest.fixture(scope="module")
def iris(tmp_path_factory, iris_model):
    folder = saved(tmp_path_factory.mktemp("iris") / "model", iris_model[0])
    out = folder.parent / "onnx"
    return convert_model(folder, out, framework="ScikitLearn", tags={}), out


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=15, random_state=0))
    pipe.fit(X, y)
    folder = saved(tmp_path_factory.mktemp("digits") / "model", pipe, "classifier.joblib")
    out = folder.parent / "onnx"
    return convert_model(folder, out, framework="sklearn", tags={}), out, pipe, X


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    X, y = load_diabetes(return_X_y=True)
    model = Ridge().fit(X, y)
    folder = saved(tmp_path_factory.mktemp("diabetes") / "model", model)
    out = folder.parent / "onnx"
    # The model's blob may be a single file rather than a folder.
    result = convert_model(folder / "model.pkl", out, framework="scikitlearn", tags={})
    return result, out, model, X


def test_an_iris_logistic_regression_converts_and_passes_parity(iris, iris_model):
    result, out = iris
    assert isinstance(result, ConversionResult)
    assert result.ok, result.reason
    assert result.reason == ""
    assert REPORT_FIELDS <= set(result.report)
    assert result.report["passed"] is True
    assert result.report["framework"] == "ScikitLearn"
    assert result.report["n_samples"] == 32
    assert result.report["label_agreement"] == 1.0
    assert 0 <= result.report["max_abs_diff"] <= 1e-5
    assert (result.report["rtol"], result.report["atol"]) == (1e-3, 1e-5)
    assert json.loads((out / "parity.json").read_text()) == result.report


def test_the_converted_iris_model_answers_like_the_original(iris, iris_model):
    model, X = iris_model
    labels, probabilities = run_onnx(iris[1] / "model.onnx", X)
    assert labels.tolist() == model.predict(X).tolist()
    assert np.allclose(probabilities, model.predict_proba(X), atol=1e-5)


def test_the_report_describes_inputs_and_outputs_in_oip_terms(iris):
    report = iris[0].report
    assert report["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 4]}]
    assert report["outputs"] == [{"name": "label", "datatype": "INT64", "shape": [-1]},
                                 {"name": "probabilities", "datatype": "FP32",
                                  "shape": [-1, 3]}]


def test_a_digits_scaler_and_forest_pipeline_converts(digits):
    result, out, pipe, X = digits
    assert result.ok, result.reason
    assert result.report["model_type"] == "Pipeline"
    assert result.report["source"] == "classifier.joblib"
    assert result.report["inputs"][0]["shape"] == [-1, 64]
    labels, _ = run_onnx(out / "model.onnx", X)
    assert labels.tolist() == pipe.predict(X).tolist()


def test_real_digit_images_expose_the_forests_float32_thresholds(digits, tmp_path):
    # A bootstrap sample can miss a pixel value; the split then falls exactly on it,
    # and whether it goes left depends on float64 (scikit-learn) or float32 (ONNX).
    _, out, pipe, X = digits
    source = out.parent / "model"
    tags = {"sample_input": json.dumps(X[:100].tolist())}  # as a user tags it: a string
    result = convert_model(source, tmp_path / "onnx", framework="ScikitLearn", tags=tags)
    assert not result.ok
    assert result.report["n_samples"] == 100
    assert result.report["label_agreement"] == 1.0
    assert result.report["max_abs_diff"] >= 1 / 15 - 1e-6  # one tree of 15 changed its vote
    assert "max_abs_diff=" in result.reason


def test_a_regressor_is_compared_on_its_predictions(diabetes):
    result, out, model, X = diabetes
    assert result.ok, result.reason
    assert result.report["label_agreement"] is None
    assert result.report["max_abs_diff"] is not None
    assert result.report["outputs"] == [{"name": "variable", "datatype": "FP32",
                                         "shape": [-1, 1]}]
    (predictions,) = run_onnx(out / "model.onnx", X)
    assert np.allclose(predictions.ravel(), model.predict(X), rtol=1e-4)


def test_zero_tolerance_makes_float32_probabilities_fail_parity(tmp_path, iris_model):
    folder = saved(tmp_path / "model", iris_model[0])
    result = convert_model(folder, tmp_path / "onnx", framework="ScikitLearn",
                           tags={"parity_rtol": "0", "parity_atol": "0"})
    assert not result.ok
    assert result.report["passed"] is False
    assert result.report["label_agreement"] == 1.0  # labels agree; probabilities do not
    assert result.report["max_abs_diff"] > 0
    assert "parity check failed" in result.reason
    assert "max_abs_diff=" in result.reason and "rtol=0.0, atol=0.0" in result.reason
    # The model is still written, so the mismatch can be inspected.
    assert (tmp_path / "onnx" / "model.onnx").exists()


def test_an_mlflow_model_folder_is_read_through_its_mlmodel_file(tmp_path, iris_model):
    folder = saved(tmp_path / "model" / "outputs" / "model", iris_model[0], "weights.pkl")
    (folder / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
        "  sklearn:\n    pickled_model: weights.pkl\n    serialization_format: cloudpickle\n")
    rows = load_iris().data[:5].tolist()
    result = convert_model(tmp_path / "model", tmp_path / "onnx", framework="ScikitLearn",
                           tags={"sample_input": rows})
    assert result.ok, result.reason
    assert result.report["source"] == "outputs/model/weights.pkl"
    assert result.report["n_samples"] == 5


def test_an_onnx_model_is_copied_and_run(iris, tmp_path):
    result = convert_model(iris[1], tmp_path / "onnx", framework="Onnx", tags={})
    assert result.ok, result.reason
    assert result.report["framework"] == "Onnx"
    assert result.report["inputs"] == iris[0].report["inputs"]
    assert (tmp_path / "onnx" / "model.onnx").read_bytes() == (iris[1] / "model.onnx").read_bytes()
