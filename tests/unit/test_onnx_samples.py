"""What the parity gate runs on: sample values fitted to the model's inputs, from tags,
a data asset's file, or generated from the inputs' shapes and dtypes."""
import json

import numpy as np
import pytest

from shared.onnx.conversion import ConversionError
from shared.onnx.feeds import fit, parity_feeds, with_shapes
from shared.onnx.options import ConversionOptions
from shared.onnx.sample_data import read_sample_data
from shared.serving.signatures import TensorSpec

IMAGE = TensorSpec("image", "FP32", (-1, 1, 8, 8))


def test_flat_rows_are_folded_into_the_inputs_image_shape():
    rows = np.arange(2 * 64).reshape(2, 64).tolist()
    assert fit(rows, IMAGE).shape == (2, 1, 8, 8)
    assert fit(rows, IMAGE).dtype == np.float32


def test_a_single_sample_becomes_a_batch_of_one():
    assert fit(np.zeros((1, 8, 8)), IMAGE).shape == (1, 1, 8, 8)


def test_samples_that_do_not_fit_name_both_shapes():
    with pytest.raises(ConversionError, match=r"have shape \[2, 63\]; the model takes "
                                              r"\[-1, 1, 8, 8\]"):
        fit(np.zeros((2, 63)), IMAGE)


def test_strings_are_fed_as_bytes():
    assert fit(["a", "b"], TensorSpec("text", "BYTES", (-1,))).dtype == object


def test_generated_samples_follow_each_inputs_dtype_and_the_tag_shapes():
    specs = [TensorSpec("tokens", "INT64", (-1, -1)), TensorSpec("mask", "BOOL", (-1, -1))]
    options = ConversionOptions.from_tags({"sample_input_shape": "[[1, 5], [1, 5]]"})
    feeds = parity_feeds(specs, options)
    assert feeds["tokens"].shape == feeds["mask"].shape == (32, 5)
    assert (feeds["tokens"].dtype, feeds["mask"].dtype) == (np.int64, np.bool_)


def test_tag_shapes_fill_only_the_unknown_dimensions():
    options = ConversionOptions.from_tags({"sample_input_shape": "[4, 3, 32, 32]"})
    (spec,) = with_shapes([TensorSpec("x", "FP32", (-1, 3, -1, -1))], options)
    assert spec.shape == (-1, 3, 32, 32)  # the batch stays dynamic


def test_a_multi_input_model_needs_named_samples():
    specs = [TensorSpec("a", "FP32", (-1, 1)), TensorSpec("b", "FP32", (-1, 1))]
    with pytest.raises(ConversionError, match="name them in the sample data"):
        parity_feeds(specs, ConversionOptions(sample_input=[[1.0]]))
    with pytest.raises(ConversionError, match="no values for input 'b'"):
        parity_feeds(specs, ConversionOptions(sample_input={"a": [[1.0]]}))


@pytest.mark.parametrize("tags, message", [
    ({"sample_input_shape": "[1, 2.5]"}, "tag sample_input_shape must look like [1, 64]"),
    ({"sample_input_dtype": "complex64"}, "unknown dtype 'complex64'"),
    ({"input_names": "a,a"}, "tag input_names must name each tensor once"),
])
def test_malformed_input_tags_are_refused(tags, message):
    with pytest.raises(ConversionError) as caught:
        ConversionOptions.from_tags(tags)
    assert message in str(caught.value)


def test_dtype_tags_accept_the_frameworks_own_spellings():
    options = ConversionOptions.from_tags({"sample_input_dtype": '["torch.float32", "long"]'})
    assert options.sample_input_dtypes == ("float32", "int64")


def test_a_csv_data_asset_with_a_header_gives_its_rows(tmp_path):
    (tmp_path / "samples.csv").write_text("a,b\n1,2\n3,4\n")
    assert read_sample_data(tmp_path).tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_a_json_data_asset_may_name_its_inputs(tmp_path):
    (tmp_path / "samples.json").write_text(json.dumps({"a": [[1]], "b": [[2]]}))
    assert read_sample_data(tmp_path / "samples.json") == {"a": [[1]], "b": [[2]]}


def test_a_data_asset_with_several_sample_files_is_ambiguous(tmp_path):
    np.save(tmp_path / "one.npy", np.zeros((2, 2)))
    np.save(tmp_path / "two.npy", np.zeros((2, 2)))
    with pytest.raises(ConversionError, match="holds several"):
        read_sample_data(tmp_path)
