"""onnx-convert and its ConversionFailed event: the gate runs on a registered data asset
when the model names one, and a failed conversion shows on the endpoints following the
model while they keep serving what they served."""
import io
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from shared.domain.errors import TransientError
from shared.domain.messages import ConversionFailed, Envelope, RegisterModel
from shared.handlers.registry import handle
from shared.ports import Record


def deliver(container, envelope):
    handle(envelope.queue, envelope.to_json(), container.ports())


def register(container, tags):
    """A fitted iris classifier registered and announced on the onnx-convert queue."""
    x, y = load_iris(return_X_y=True)
    container.blobs.put("uploads/m/model.pkl",
                        pickle.dumps(LogisticRegression(max_iter=500).fit(x, y)))
    deliver(container, Envelope(RegisterModel(name="iris", source="uploads/m/model.pkl",
                                              framework="ScikitLearn", tags=tags)))
    return container.bus.receive("onnx-convert").envelope


def data_asset(container, state="Registered", rows=5):
    buffer = io.BytesIO()
    np.save(buffer, load_iris().data[:rows])
    container.blobs.put("datasets/iris-rows/1/rows.npy", buffer.getvalue())
    container.registry.put(Record("data", "iris-rows", "1", {
        "name": "iris-rows", "version": "1", "type": "uri_file", "state": state,
        "path": "datasets/iris-rows/1/rows.npy"}))


def model(container):
    return container.registry.get("model", "iris", "1").body


def test_the_gate_runs_on_the_data_asset_the_model_names(container):
    data_asset(container, rows=5)
    deliver(container, register(container, {"sample_input_dataset": "azureml:iris-rows@latest"}))
    converted = model(container)
    assert converted["state"] == "Converted", converted["error"]
    assert converted["onnx"]["parity"]["n_samples"] == 5
    assert container.blobs.get("models/iris/1/onnx/parity.json")


def test_a_data_asset_that_does_not_exist_fails_the_version_with_the_reason(container):
    deliver(container, register(container, {"sample_input_dataset": "azureml:nope:1"}))
    failed = model(container)
    assert failed["state"] == "ConversionFailed"
    assert failed["error"]["message"] == ("tag sample_input_dataset: data asset "
                                          "'azureml:nope:1' does not exist")
    assert failed["onnx"]["path"] is None
    assert container.bus.receive("deploy").envelope.type == "ConversionFailed"


def test_a_data_asset_still_registering_is_waited_for(container):
    data_asset(container, state="Registering")
    envelope = register(container, {"sample_input_dataset": "iris-rows:1"})
    with pytest.raises(TransientError, match="still registering"):
        deliver(container, envelope)
    assert model(container)["state"] == "Registered"


def deployment(container, name, model_name, serving, pinned=None):
    container.registry.put(Record("deployment", f"ep/{name}", "", {
        "name": name, "endpoint": "ep", "model": model_name, "state": "Succeeded",
        "model_ref": {"version": pinned, "label": None if pinned else "latest"},
        "model_version": serving, "error": None}))


def test_a_failed_conversion_shows_on_followers_which_keep_serving(container):
    deployment(container, "follows", "iris", serving="1")
    deployment(container, "pinned", "iris", serving="1", pinned="1")
    deployment(container, "other", "digits", serving="1")
    deliver(container, Envelope(ConversionFailed("iris", "2", "ONNX parity check failed")))
    follows = container.registry.get("deployment", "ep/follows").body
    assert (follows["state"], follows["model_version"]) == ("Succeeded", "1")
    assert follows["last_rollout"] == {
        "version": "2", "state": "Failed",
        "error": "model iris:2 failed its ONNX conversion: ONNX parity check failed"}
    for untouched in ("ep/pinned", "ep/other"):
        assert "last_rollout" not in container.registry.get("deployment", untouched).body
