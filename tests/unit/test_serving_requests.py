"""Scoring: the three request bodies a deployment accepts, and the ones it refuses."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shared.domain.errors import PermanentError
from shared.serving import BadRequest, Scorer


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """A real digits classifier, converted as the onnx-convert step converts it."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    X, y = load_digits(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    onx = convert_sklearn(model, initial_types=[("input", FloatTensorType([None, 64]))],
                          options={id(model): {"zipmap": False}})
    path = tmp_path_factory.mktemp("digits") / "model.onnx"
    path.write_bytes(onx.SerializeToString())
    rows = X[[3, 7, 11, 42, 100]]
    return path, model, rows


@pytest.fixture(scope="module")
def scorer():
    return Scorer()


def expected_labels(digits):
    _, model, rows = digits
    return model.predict(rows).tolist()


def test_an_azure_ml_v1_body_gets_the_predicted_labels(scorer, digits):
    path, _, rows = digits
    assert scorer.score(path, {"data": rows.tolist()}) == expected_labels(digits)


def test_a_single_row_is_a_batch_of_one(scorer, digits):
    path, _, rows = digits
    assert scorer.score(path, {"data": rows[0].tolist()}) == expected_labels(digits)[:1]


@pytest.mark.parametrize("input_data", [
    "rows", "split", "named"])
def test_every_azure_ml_v2_form_gets_the_same_labels(scorer, digits, input_data):
    path, _, rows = digits
    body = {"rows": rows.tolist(),
            "split": {"columns": [f"pixel_{i}" for i in range(64)],
                      "index": list(range(len(rows))), "data": rows.tolist()},
            "named": {"input": rows.tolist()}}[input_data]
    assert scorer.score(path, {"input_data": body}) == expected_labels(digits)


@pytest.mark.parametrize("nested", [False, True])
def test_an_open_inference_body_gets_every_output(scorer, digits, nested):
    path, model, rows = digits
    data = rows.tolist() if nested else rows.reshape(-1).tolist()
    body = {"id": "req-1", "inputs": [{"name": "input", "shape": list(rows.shape),
                                       "datatype": "FP64", "data": data}]}
    reply = scorer.score(path, body, model_name="digits", model_version="3")
    assert (reply["model_name"], reply["model_version"], reply["id"]) == ("digits", "3", "req-1")
    label, proba = reply["outputs"]
    assert label == {"name": "label", "shape": [5], "datatype": "INT64",
                     "data": expected_labels(digits)}
    assert (proba["name"], proba["shape"], proba["datatype"]) == ("probabilities", [5, 10], "FP32")
    assert np.allclose(np.reshape(proba["data"], (5, 10)), model.predict_proba(rows), atol=1e-5)


def test_an_open_inference_body_may_ask_for_one_output_and_gets_an_id(scorer, digits):
    path, _, rows = digits
    body = {"inputs": [{"name": "input", "shape": [1, 64], "datatype": "INT64",
                        "data": rows[0].astype(int).tolist()}],
            "outputs": [{"name": "probabilities"}]}
    reply = scorer.score(path, body)
    assert [o["name"] for o in reply["outputs"]] == ["probabilities"]
    assert reply["id"]


def oip(shape, data, datatype="FP32", name="input"):
    return {"inputs": [{"name": name, "shape": shape, "datatype": datatype, "data": data}]}


ZEROS = [0.0] * 64
BAD = {
    "not an object": ([[0.0] * 64], "the request body must be a JSON object, got a list"),
    "no known shape": ({"rows": [ZEROS]}, 'expected {"data": [[...]]} (Azure ML v1)'),
    "data not rows": ({"data": "1,2,3"}, "'data' must be a list of rows or an object"),
    "wrong feature count": ({"data": [[1, 2, 3], [4, 5, 6]]},
                            "input 'input': expected shape [-1, 64], got [2, 3]"),
    "short single row": ({"input_data": [1, 2, 3]},
                         "input 'input': expected shape [-1, 64], got [3]"),
    "unknown input": ({"input_data": {"pixels": [ZEROS]}},
                      "unknown input 'pixels'; the model's inputs are ['input']"),
    "non-numeric": ({"data": [["a"] * 64]},
                    "input 'input' takes numbers (FP32); got a non-numeric value: 'a'"),
    "null value": ({"data": [[None] + ZEROS[1:]]}, "got a non-numeric value: None"),
    "ragged rows": ({"data": [ZEROS, ZEROS[:63]]},
                    "input 'input': ragged rows; every row needs the same number of values "
                    "(expected shape [-1, 64])"),
    "split columns": ({"input_data": {"columns": ["a", "b"], "data": [ZEROS]}},
                      "'input_data.columns' names 2 columns but the rows have 64 values"),
    "oip wrong datatype": (oip([1, 64], ["0"] * 64, "BYTES"),
                           "input 'input': wrong datatype BYTES; the model takes FP32"),
    "oip unknown datatype": (oip([1, 64], ZEROS, "FLOAT"), "unknown datatype 'FLOAT'"),
    "oip unknown input": (oip([1, 64], ZEROS, name="x"),
                          "unknown input 'x'; the model's inputs are ['input']"),
    "oip count": (oip([2, 64], ZEROS), "input 'input': shape [2, 64] needs 128 values, got 64"),
    "oip shape": (oip([8, 8], ZEROS), "input 'input': expected shape [-1, 64], got [8, 8]"),
    "oip bad shape": (oip([-1, 64], ZEROS), "shape must be a list of non-negative integers"),
    "oip no fields": ({"inputs": [{"name": "input"}]}, 'with "name", "shape", "datatype"'),
    "oip empty": ({"inputs": []}, "'inputs' must be a non-empty list"),
    "oip unknown output": ({**oip([1, 64], ZEROS), "outputs": [{"name": "scores"}]},
                           "unknown output 'scores'; the model's outputs are "
                           "['label', 'probabilities']"),
    "too many rows": ({"data": [ZEROS] * 10_001}, "too many rows: 10001; at most 10000"),
    "no rows": ({"data": []}, "input 'input': no values sent"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_request_says_what_is_wrong(scorer, digits, case):
    body, message = BAD[case]
    with pytest.raises(BadRequest) as caught:
        scorer.score(digits[0], body)
    assert message in str(caught.value)
    assert isinstance(caught.value, PermanentError)
    assert (caught.value.code, caught.value.status) == ("BadRequest", 400)


def test_the_row_cap_can_be_lowered(digits):
    path, _, rows = digits
    capped = Scorer(max_rows=4)
    with pytest.raises(BadRequest, match="too many rows: 5; at most 4"):
        capped.score(path, {"data": rows.tolist()})
    with pytest.raises(BadRequest, match="too many rows: 5; at most 4"):
        capped.score(path, oip(list(rows.shape), rows.reshape(-1).tolist()))
