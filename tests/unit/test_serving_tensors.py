"""Scoring tensor models with no code: inputs of any rank, the Open Inference Protocol v2
datatypes, batches, several named inputs and outputs, and 400s that say the shape."""
import numpy as np
import pytest
from onnx import TensorProto, helper

from shared.serving import BadRequest, Scorer


def onnx_file(tmp_path, name, nodes, inputs, outputs, initializer=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializer))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(model.SerializeToString())
    return path


@pytest.fixture
def images(tmp_path):
    """[N, 1, 8, 8] FP32 images -> their pixel sum and brightest pixel, both [N]."""
    return onnx_file(tmp_path, "images", [
        helper.make_node("ReduceSum", ["image", "axes"], ["total"], keepdims=0),
        helper.make_node("ReduceMax", ["image"], ["brightest"], axes=[1, 2, 3], keepdims=0)],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("total", TensorProto.FLOAT, ["N"]),
         helper.make_tensor_value_info("brightest", TensorProto.FLOAT, ["N"])],
        [helper.make_tensor("axes", TensorProto.INT64, [3], [1, 2, 3])])


@pytest.fixture
def masked(tmp_path):
    """counts INT32 [N, 3] kept where mask BOOL [N, 3] is true -> kept INT32 [N, 3]."""
    return onnx_file(tmp_path, "masked", [
        helper.make_node("Cast", ["mask"], ["as_int"], to=TensorProto.INT32),
        helper.make_node("Mul", ["counts", "as_int"], ["kept"])],
        [helper.make_tensor_value_info("counts", TensorProto.INT32, ["N", 3]),
         helper.make_tensor_value_info("mask", TensorProto.BOOL, ["N", 3])],
        [helper.make_tensor_value_info("kept", TensorProto.INT32, ["N", 3])])


BATCH = np.arange(2 * 64, dtype=np.float64).reshape(2, 1, 8, 8)


def test_a_batch_of_images_is_scored_in_every_protocol(images):
    scorer = Scorer()
    sums = BATCH.sum(axis=(1, 2, 3)).tolist()
    assert scorer.score(images, {"data": BATCH.tolist()}) == sums
    assert scorer.score(images, {"input_data": {"image": BATCH.tolist()}}) == sums
    reply = scorer.score(images, {"inputs": [{"name": "image", "shape": [2, 1, 8, 8],
                                              "datatype": "FP64",
                                              "data": BATCH.reshape(-1).tolist()}]})
    assert reply["outputs"] == [
        {"name": "total", "shape": [2], "datatype": "FP32", "data": sums},
        {"name": "brightest", "shape": [2], "datatype": "FP32", "data": [63.0, 127.0]}]


def test_one_image_without_its_batch_axis_is_a_batch_of_one(images):
    assert Scorer().score(images, {"data": BATCH[1].tolist()}) == [BATCH[1].sum()]


def test_the_signature_shows_the_rank_and_the_dynamic_batch(images):
    assert Scorer().signature(images)["inputs"] == [
        {"name": "image", "datatype": "FP32", "shape": [-1, 1, 8, 8]}]


@pytest.mark.parametrize("body, message", [
    ({"data": BATCH.reshape(2, 64).tolist()}, "input 'image': expected shape [-1, 1, 8, 8], "
                                              "got [2, 64]"),
    ({"data": BATCH.reshape(2, 1, 4, 16).tolist()}, "expected shape [-1, 1, 8, 8], "
                                                    "got [2, 1, 4, 16]"),
    ({"inputs": [{"name": "image", "shape": [2, 64], "datatype": "FP32",
                  "data": BATCH.reshape(-1).tolist()}]}, "expected shape [-1, 1, 8, 8], "
                                                         "got [2, 64]"),
])
def test_a_wrongly_shaped_image_is_a_400_naming_the_expected_shape(images, body, message):
    with pytest.raises(BadRequest) as caught:
        Scorer().score(images, body)
    assert message in str(caught.value)
    assert caught.value.status == 400


def test_bool_and_int32_inputs_answer_int32(masked):
    reply = Scorer().score(masked, {"inputs": [
        {"name": "counts", "shape": [2, 3], "datatype": "INT32", "data": [1, 2, 3, 4, 5, 6]},
        {"name": "mask", "shape": [2, 3], "datatype": "BOOL",
         "data": [True, False, True, False, True, False]}]})
    assert reply["outputs"] == [{"name": "kept", "shape": [2, 3], "datatype": "INT32",
                                 "data": [1, 0, 3, 0, 5, 0]}]


def test_int64_values_feed_an_int32_input_and_named_rows_work_too(masked):
    body = {"input_data": {"counts": [[7, 8, 9]], "mask": [[True, True, False]]}}
    assert Scorer().score(masked, body) == [[7, 8, 0]]
    reply = Scorer().score(masked, {"inputs": [
        {"name": "counts", "shape": [1, 3], "datatype": "INT64", "data": [7, 8, 9]},
        {"name": "mask", "shape": [1, 3], "datatype": "BOOL", "data": [True, True, True]}]})
    assert reply["outputs"][0]["data"] == [7, 8, 9]


@pytest.mark.parametrize("mask, message", [
    ({"name": "mask", "shape": [1, 3], "datatype": "FP32", "data": [1.0, 0.0, 1.0]},
     "input 'mask': wrong datatype FP32; the model takes BOOL"),
    ({"name": "mask", "shape": [1, 3], "datatype": "BOOL", "data": [1, 0, 1]},
     "input 'mask' takes true/false values (BOOL)"),
])
def test_a_bool_input_takes_only_true_and_false(masked, mask, message):
    counts = {"name": "counts", "shape": [1, 3], "datatype": "INT32", "data": [1, 2, 3]}
    with pytest.raises(BadRequest) as caught:
        Scorer().score(masked, {"inputs": [counts, mask]})
    assert message in str(caught.value)
