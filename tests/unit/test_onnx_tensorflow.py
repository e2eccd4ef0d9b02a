"""onnx-convert for Keras and TensorFlow: a Keras model is exported as a SavedModel and
converted by tf2onnx's SavedModel path, then checked against Keras itself."""
import numpy as np
import pytest

from shared.onnx import convert_model

keras = pytest.importorskip("keras")


def two_in_two_out():
    """A functional model with named inputs and named outputs."""
    keras.utils.set_random_seed(0)
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    joined = keras.layers.Concatenate()([a, b])
    return keras.Model({"a": a, "b": b},
                       {"score": keras.layers.Dense(2, name="score")(joined),
                        "gate": keras.layers.Dense(1, activation="sigmoid", name="gate")(joined)})


def test_a_keras_model_with_named_inputs_and_outputs_is_checked_on_a_data_asset(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    two_in_two_out().save(folder / "model.keras")
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "samples.npz", a=rng.normal(size=(7, 3)), b=rng.normal(size=(7, 2)))
    result = convert_model(folder, tmp_path / "onnx", framework="Keras", tags={},
                           sample_data=tmp_path / "samples.npz")
    assert result.ok, result.reason
    report = result.report
    assert report["framework"] == "Keras" and report["converter"].startswith("tf2onnx")
    assert report["n_samples"] == 7  # the data asset's rows, not generated ones
    assert report["inputs"] == [{"name": "a", "datatype": "FP32", "shape": [-1, 3]},
                                {"name": "b", "datatype": "FP32", "shape": [-1, 2]}]
    assert sorted(o["name"] for o in report["per_output"]) == ["gate", "score"]
    assert report["max_abs_diff"] <= 1e-5


def test_a_savedmodel_written_by_model_export_goes_the_tensorflow_way(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.export(str(tmp_path / "model" / "export"), verbose=False)
    result = convert_model(tmp_path / "model", tmp_path / "onnx", framework="Keras",
                           tags={"parity_atol": "1e-6"})
    assert result.ok, result.reason
    assert result.report["framework"] == "Keras"
    assert result.report["model_type"] == "SavedModel signature serving_default"
    assert result.report["source"] == "export"
    assert result.report["atol"] == 1e-6


def test_a_keras_file_with_a_layer_nobody_registered_says_it_cannot_load(tmp_path):
    @keras.saving.register_keras_serializable(package="trainer")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    folder = tmp_path / "model"
    folder.mkdir()
    keras.Sequential([keras.Input((2,)), Doubler()]).save(folder / "model.keras")
    result = convert_model(folder, tmp_path / "onnx", framework="Keras", tags={})
    assert not result.ok
    assert result.reason.startswith("could not load model.keras as a Keras model: ")
    assert "Could not locate class 'Doubler'" in result.reason
