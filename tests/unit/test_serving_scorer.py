"""Scoring: signatures, health checks, cached sessions shared between threads."""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import shared.serving.scorer as scorer_module
from shared.domain.errors import NotFound
from shared.serving import BadRequest, InvalidModel, Scorer, signature


def sklearn_onnx(X, y):
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    model = LogisticRegression(max_iter=1000).fit(X, y)
    onx = convert_sklearn(model, initial_types=[("input", FloatTensorType([None, X.shape[1]]))],
                          options={id(model): {"zipmap": False}})
    return model, onx.SerializeToString()


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    X, y = load_iris(return_X_y=True)
    model, data = sklearn_onnx(X, y)
    path = tmp_path_factory.mktemp("iris") / "model.onnx"
    path.write_bytes(data)
    return path, model, X


def graph_model(tmp_path, nodes, inputs, outputs):
    """A hand-built ONNX graph, for inputs no scikit-learn conversion produces."""
    from onnx import helper

    graph = helper.make_graph(nodes, "g", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "graph.onnx"
    path.write_bytes(model.SerializeToString())
    return path


@pytest.fixture
def two_inputs(tmp_path):
    """total = a + float(b), with a FP32 [-1, 1] and b INT64 [-1, 1]."""
    from onnx import TensorProto, helper

    return graph_model(tmp_path, [
        helper.make_node("Cast", ["b"], ["b_float"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["a", "b_float"], ["total"])],
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 1]),
         helper.make_tensor_value_info("b", TensorProto.INT64, ["N", 1])],
        [helper.make_tensor_value_info("total", TensorProto.FLOAT, ["N", 1])])


def test_the_signature_names_the_input_its_datatype_and_width(iris):
    expected = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 4]}],
                "outputs": [{"name": "label", "datatype": "INT64", "shape": [-1]},
                            {"name": "probabilities", "datatype": "FP32", "shape": [-1, 3]}]}
    assert signature(iris[0]) == expected
    assert Scorer().signature(iris[0]) == expected


def test_a_healthy_model_passes_the_health_check(iris, two_inputs):
    Scorer().health(iris[0])
    Scorer().health(two_inputs)


def test_a_corrupt_file_fails_the_health_check(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x08\x07garbage")
    with pytest.raises(InvalidModel, match="cannot load ONNX model model.onnx"):
        Scorer().health(path)


def test_a_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound, match="no ONNX model at"):
        Scorer().score(tmp_path / "gone.onnx", {"data": [[1, 2, 3, 4]]})


def counting_loads(monkeypatch):
    loads = []
    real = scorer_module.load_session

    def load(path, providers=None):
        loads.append(path)
        return real(path, providers)
    monkeypatch.setattr(scorer_module, "load_session", load)
    return loads


def test_one_session_serves_many_requests_from_many_threads(iris, monkeypatch):
    path, model, X = iris
    loads = counting_loads(monkeypatch)
    scorer = Scorer()
    batches = [X[i:i + 5] for i in range(0, 150, 5)] * 4

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda rows: scorer.score(path, {"data": rows.tolist()}),
                                batches))
    assert answers == [model.predict(rows).tolist() for rows in batches]
    assert len(loads) == 1


def test_a_rewritten_file_gets_a_new_session(tmp_path, iris, monkeypatch):
    path = tmp_path / "model.onnx"
    path.write_bytes(iris[0].read_bytes())
    loads = counting_loads(monkeypatch)
    scorer = Scorer()
    assert scorer.signature(path)["inputs"][0]["shape"] == [-1, 4]
    X, y = load_iris(return_X_y=True)
    _, two_features = sklearn_onnx(X[:, :2], y)
    path.write_bytes(two_features)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert scorer.signature(path)["inputs"][0]["shape"] == [-1, 2]
    assert scorer.signature(path)["inputs"][0]["shape"] == [-1, 2]
    assert len(loads) == 2


def test_inputs_are_fed_by_name_or_by_split_columns(two_inputs):
    scorer = Scorer()
    named = {"input_data": {"a": [[1.5], [2.0]], "b": [[1], [2]]}}
    split = {"input_data": {"columns": ["a", "b"], "index": [0, 1], "data": [[1.5, 1], [2, 2]]}}
    assert scorer.score(two_inputs, named) == [2.5, 4.0]
    assert scorer.score(two_inputs, split) == [2.5, 4.0]
    reply = scorer.score(two_inputs, {"inputs": [
        {"name": "a", "shape": [2, 1], "datatype": "FP64", "data": [1.5, 2.0]},
        {"name": "b", "shape": [2, 1], "datatype": "INT32", "data": [1, 2]}]})
    assert reply["outputs"] == [{"name": "total", "shape": [2, 1], "datatype": "FP32",
                                 "data": [2.5, 4.0]}]


@pytest.mark.parametrize("body, message", [
    ({"data": [[1.0, 2]]}, "the model has 2 inputs ['a', 'b']; send them by name"),
    ({"input_data": {"a": [[1.0]]}}, "missing input 'b'; the model's inputs are ['a', 'b']"),
    ({"input_data": {"a": [[1.0]], "b": [[1.5]]}}, "input 'b' takes whole numbers (INT64)"),
    ({"inputs": [{"name": "a", "shape": [1, 1], "datatype": "FP32", "data": [1]},
                 {"name": "b", "shape": [1, 1], "datatype": "FP32", "data": [1]}]},
     "input 'b': wrong datatype FP32; the model takes INT64"),
    ({"input_data": {"columns": ["a", "b"], "data": [[1.0, 2], [3.0]]}},
     "ragged rows: every row of 'input_data.data' needs 2 values"),
])
def test_a_multi_input_model_refuses_what_does_not_fit(two_inputs, body, message):
    with pytest.raises(BadRequest) as caught:
        Scorer().score(two_inputs, body)
    assert message in str(caught.value)


def test_string_inputs_travel_as_bytes(tmp_path):
    from onnx import TensorProto, helper

    path = graph_model(tmp_path, [helper.make_node("Identity", ["text"], ["echo"])],
                       [helper.make_tensor_value_info("text", TensorProto.STRING, ["N"])],
                       [helper.make_tensor_value_info("echo", TensorProto.STRING, ["N"])])
    scorer = Scorer()
    assert scorer.signature(path)["inputs"] == [{"name": "text", "datatype": "BYTES",
                                                 "shape": [-1]}]
    reply = scorer.score(path, {"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES",
                                            "data": ["héllo", "world"]}]})
    assert reply["outputs"][0] == {"name": "echo", "shape": [2], "datatype": "BYTES",
                                   "data": ["héllo", "world"]}
    with pytest.raises(BadRequest, match="input 'text' takes strings"):
        scorer.score(path, {"data": [1, 2]})
    scorer.health(path)


def test_zipmap_outputs_are_served_as_a_probability_matrix(tmp_path, iris):
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    _, model, X = iris
    onx = convert_sklearn(model, initial_types=[("input", FloatTensorType([None, 4]))])
    path = tmp_path / "zipmap.onnx"
    path.write_bytes(onx.SerializeToString())
    scorer = Scorer()
    assert scorer.signature(path)["outputs"][1] == {
        "name": "output_probability", "datatype": "FP32", "shape": [-1, -1]}
    reply = scorer.score(path, {"inputs": [{"name": "input", "shape": [3, 4], "datatype": "FP32",
                                            "data": X[:3].ravel().tolist()}]})
    probabilities = reply["outputs"][1]
    assert probabilities["shape"] == [3, 3]
    assert np.allclose(np.reshape(probabilities["data"], (3, 3)), model.predict_proba(X[:3]),
                       atol=1e-5)
