"""A model registered without a framework tag: its framework is told from its files
(an MLflow model's flavor, a bare .pkl/.pt/.onnx, a SavedModel), so that it converts to
ONNX and serves; what cannot be told fails the conversion saying why."""
import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from shared.domain.messages import Envelope, RegisterModel
from shared.handlers.registry import handle
from shared.onnx.frameworks import infer_framework

X, Y = load_iris(return_X_y=True)


def deliver(container, envelope):
    handle(envelope.queue, envelope.to_json(), container.ports())


def register(container, folder, model_type="custom_model", **tags):
    """Register the files under folder (a file or a folder) with no framework tag, and
    run model-register and onnx-convert on them as the bus would."""
    container.blobs.upload_dir(folder, "uploads/m") if folder.is_dir() else \
        container.blobs.put(f"uploads/m/{folder.name}", folder.read_bytes())
    source = "uploads/m" if folder.is_dir() else f"uploads/m/{folder.name}"
    deliver(container, Envelope(RegisterModel(name="m", source=source, type=model_type,
                                              tags=tags)))
    deliver(container, container.bus.receive("onnx-convert").envelope)
    return container.registry.get("model", "m", "1").body


def iris_classifier():
    return LogisticRegression(max_iter=500).fit(X, Y)


def iris_net():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


class TestTellingTheFramework:
    def no_read(self, name):
        raise AssertionError(f"{name} should not be read")

    @pytest.mark.parametrize("names, framework", [
        (["model.pkl"], "ScikitLearn"), (["model.joblib"], "ScikitLearn"),
        (["net.pt"], "PyTorch"), (["weights/net.pth"], "PyTorch"),
        (["model.onnx"], "Onnx"), (["model.keras"], "Keras"),
        (["1/saved_model.pb", "1/variables/variables.index"], "TensorFlow"),
    ])
    def test_a_bare_model_file_names_its_framework(self, names, framework):
        assert infer_framework(names, self.no_read).framework == framework

    def test_files_of_two_frameworks_tell_nothing_and_say_so(self):
        found = infer_framework(["model.pkl", "net.pt"], self.no_read)
        assert found.framework == "" and "several frameworks" in found.reason

    def test_an_mlflow_model_without_mlmodel_is_named_as_such(self):
        found = infer_framework(["model.pkl"], self.no_read, "mlflow_model")
        assert found.framework == "" and "MLmodel" in found.reason

    def test_a_keras_model_logged_with_the_tensorflow_flavor_is_keras(self):
        mlmodel = b"flavors:\n  tensorflow:\n    model_type: keras\n    keras_version: 3.1\n"
        found = infer_framework(["MLmodel", "data/model.keras"], lambda _: mlmodel)
        assert (found.framework, found.version) == ("Keras", "3.1")

    def test_a_custom_pyfunc_names_its_flavors(self):
        mlmodel = b"flavors:\n  python_function:\n    loader_module: my.loader\n"
        found = infer_framework(["MLmodel"], lambda _: mlmodel)
        assert found.framework == "" and "python_function" in found.reason


class TestConvertingWhatWasTold:
    def test_an_mlflow_sklearn_model_converts_through_its_flavor(self, container, tmp_path):
        import mlflow.sklearn

        mlflow.sklearn.save_model(iris_classifier(), tmp_path / "mlflow-model",
                                  serialization_format="cloudpickle")

        model = register(container, tmp_path / "mlflow-model", "mlflow_model")

        assert model["framework"] == "ScikitLearn"
        assert "sklearn flavor" in model["framework_inferred_from"]
        assert model["state"] == "Converted", model["error"]
        assert model["onnx"]["parity"]["passed"] is True

    def test_a_bare_pickle_converts_as_scikit_learn(self, container, tmp_path):
        joblib.dump(iris_classifier(), tmp_path / "classifier.joblib")

        model = register(container, tmp_path / "classifier.joblib")

        assert (model["framework"], model["state"]) == ("ScikitLearn", "Converted"), model

    def test_a_torchscript_file_converts_as_pytorch(self, container, tmp_path):
        import torch

        torch.jit.script(iris_net()).save(str(tmp_path / "net.pt"))

        # A bare file does not say what it takes; the shape tag does.
        model = register(container, tmp_path / "net.pt", sample_input_shape="[1, 4]")

        assert model["framework"] == "PyTorch"
        assert model["state"] == "Converted", model["error"]

    def test_an_mlflow_pytorch_model_converts_from_its_signature(self, container, tmp_path):
        import mlflow.pytorch
        import torch
        from mlflow.models import infer_signature

        net = iris_net()
        sample = X[:5].astype(np.float32)
        signature = infer_signature(sample, net(torch.from_numpy(sample)).detach().numpy())
        mlflow.pytorch.save_model(net, tmp_path / "mlflow-net", signature=signature,
                                  input_example=sample)

        model = register(container, tmp_path / "mlflow-net", "mlflow_model")

        assert (model["framework"], model["framework_version"]) == ("PyTorch",
                                                                   torch.__version__)
        assert model["state"] == "Converted", model["error"]

    def test_an_onnx_file_is_checked_as_onnx(self, container, tmp_path):
        from skl2onnx import to_onnx

        onnx_model = to_onnx(iris_classifier(), X[:1].astype(np.float32),
                             options={"zipmap": False})
        (tmp_path / "iris.onnx").write_bytes(onnx_model.SerializeToString())

        model = register(container, tmp_path / "iris.onnx")

        assert model["framework"] == "Onnx"
        assert model["state"] == "Converted", model["error"]

    def test_a_model_nothing_can_be_told_of_fails_saying_why(self, container, tmp_path):
        (tmp_path / "weights.bin").write_bytes(b"\0" * 16)

        model = register(container, tmp_path / "weights.bin")

        assert model["state"] == "ConversionFailed"
        assert "no framework tag" in model["error"]["message"]
        assert "no model file mlcycle knows" in model["error"]["message"]

    def test_a_keras_savedmodel_converts_as_tensorflow(self, container, tmp_path):
        import keras

        keras.utils.set_random_seed(0)
        net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        net.export(str(tmp_path / "saved"), format="tf_saved_model", verbose=False)

        model = register(container, tmp_path / "saved")

        assert model["framework"] == "TensorFlow"
        assert model["framework_inferred_from"] == "a SavedModel (saved_model.pb)"
        assert model["state"] == "Converted", model["error"]
