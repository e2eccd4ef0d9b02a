"""PyTorch, Keras, TensorFlow and scikit-learn models trained by real jobs go the whole
way: registered from the run's outputs, converted to ONNX behind the parity gate,
deployed with no code, and scored over HTTP as the framework itself predicts."""
import json
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris

HERE = Path(__file__).parent / "frameworks"
RTOL, ATOL = 1e-3, 1e-5  # the gate's defaults: served answers are held to the same
DIGITS = load_digits().data[:12]
IRIS = load_iris().data[::15]
pytestmark = pytest.mark.e2e


def wait_json(cli, argv, done, timeout=600):
    deadline = time.monotonic() + timeout
    while not done(result := cli.json(*argv)):
        assert time.monotonic() < deadline, result
        time.sleep(0.5)
    return result


def train(cli, job, **inputs):
    """Submit a job file through the local host and wait for it to complete."""
    sets = [a for k, v in inputs.items() for a in ("--set", f"inputs.{k}={v}")]
    run = cli.json("job", "create", "-f", HERE / job, *sets)
    code, out, err = cli("job", "stream", "-n", run["name"])
    assert code == 0, out + err
    return run["name"]


def register(cli, name, run, **tags):
    """Register the run's outputs/model as a version of name; wait for its conversion."""
    pairs = [f"{k}={v}" for k, v in tags.items()]
    model = cli.json("model", "create", "--name", name, "--type", "custom_model", "--path",
                     f"azureml://jobs/{run}/outputs/artifacts/paths/model/", "--tags", *pairs)
    return wait_json(cli, ["model", "show", "-n", name, "-v", model["version"]],
                     lambda m: m["state"] not in ("Registering", "Registered"))


def serve(cli, tmp_path, endpoint, model):
    (tmp_path / "endpoint.yml").write_text(f"name: {endpoint}\nauth_mode: key\n")
    cli.json("online-endpoint", "create", "-f", tmp_path / "endpoint.yml")
    (tmp_path / "deployment.yml").write_text(
        f"name: blue\nendpoint_name: {endpoint}\nmodel: azureml:{model}@latest\n"
        "instance_type: Standard_DS2_v2\ninstance_count: 1\n")
    code, _, err = cli("online-deployment", "create", "-f", tmp_path / "deployment.yml",
                       "--all-traffic")
    assert code == 0, err
    # Traffic moves to the deployment just after it reports Succeeded.
    return wait_json(cli, ["online-endpoint", "show", "-n", endpoint],
                     lambda e: e["traffic"].get("blue") == 100)


def invoke(cli, tmp_path, endpoint, body):
    request = tmp_path / "request.json"
    request.write_text(json.dumps(body))
    return cli("online-endpoint", "invoke", "-n", endpoint, "--request-file", request)


def score(cli, tmp_path, endpoint, body):
    code, out, err = invoke(cli, tmp_path, endpoint, body)
    assert code == 0, err
    return json.loads(out)


def run_outputs(host, run, into):
    host.container.blobs.download(f"runs/{run}/outputs/model", into)
    return into


def oip(name, array, datatype="FP32"):
    return {"inputs": [{"name": name, "shape": list(array.shape), "datatype": datatype,
                        "data": array.reshape(-1).tolist()}]}


def output(reply, name):
    found = next(o for o in reply["outputs"] if o["name"] == name)
    return np.reshape(found["data"], found["shape"])


def assert_close(served, expected):
    assert np.allclose(np.asarray(served, dtype=np.float64), expected, rtol=RTOL, atol=ATOL)


@pytest.fixture(scope="module")
def made():
    """What one test made and another builds on, for the module's host."""
    return {}


@pytest.fixture
def torch_mlp(made, cli, tmp_path_factory):
    """digits-torch:1, a TorchScript MLP, served at the digits-torch endpoint."""
    if "mlp" not in made:
        run = train(cli, "torch.yml", form="torchscript")
        model = register(cli, "digits-torch", run, framework="PyTorch",
                         framework_version="2.13", sample_input_shape="[1, 64]",
                         sample_input_dtype="float32")
        endpoint = serve(cli, tmp_path_factory.mktemp("mlp"), "digits-torch", "digits-torch")
        made["mlp"] = run, model, endpoint
    return made["mlp"]


def test_a_pytorch_mlp_saved_as_torchscript_answers_like_torch(torch_mlp, cli, host, tmp_path):
    import torch

    run, model, endpoint = torch_mlp
    assert model["state"] == "Converted", model["error"]
    parity = model["onnx"]["parity"]
    assert parity["passed"] is True and parity["max_abs_diff"] <= ATOL + RTOL
    assert endpoint["signature"] == {
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 64]}],
        "outputs": [{"name": "output", "datatype": "FP32", "shape": [-1, 10]}]}
    module = torch.jit.load(str(run_outputs(host, run, tmp_path / "m") / "model.pt"))
    with torch.no_grad():
        expected = module(torch.tensor(DIGITS, dtype=torch.float32)).numpy()
    assert_close(score(cli, tmp_path, "digits-torch", {"data": DIGITS.tolist()}), expected)
    reply = score(cli, tmp_path, "digits-torch", oip("input", DIGITS, "FP64"))
    assert [o["name"] for o in reply["outputs"]] == ["output"]
    assert_close(output(reply, "output"), expected)


def test_a_pytorch_cnn_exported_with_torch_export_takes_image_tensors(cli, host, tmp_path):
    import torch

    run = train(cli, "torch.yml", form="exported")
    model = register(cli, "digits-cnn", run, framework="PyTorch", framework_version="2.13")
    assert model["state"] == "Converted", model["error"]
    endpoint = serve(cli, tmp_path, "digits-cnn", "digits-cnn")
    (image_input,) = endpoint["signature"]["inputs"]
    assert image_input["shape"] == [-1, 1, 8, 8]  # recorded by torch.export, batch dynamic
    images = DIGITS.reshape(-1, 1, 8, 8)
    program = torch.export.load(str(run_outputs(host, run, tmp_path / "m") / "model.pt2"))
    with torch.no_grad():
        expected = program.module()(torch.tensor(images, dtype=torch.float32)).numpy()
    reply = score(cli, tmp_path, "digits-cnn", oip(image_input["name"], images))
    assert_close(output(reply, "output"), expected)
    assert_close(score(cli, tmp_path, "digits-cnn", {"input_data": images.tolist()}), expected)

    code, _, err = invoke(cli, tmp_path, "digits-cnn", {"data": DIGITS.tolist()})
    assert code == 1
    assert "expected shape [-1, 1, 8, 8], got [12, 64]" in err


def test_a_keras_sequential_model_answers_like_keras(cli, host, tmp_path):
    import keras

    run = train(cli, "keras.yml")
    model = register(cli, "digits-keras", run, framework="Keras", framework_version="3")
    assert model["state"] == "Converted", model["error"]
    assert model["onnx"]["parity"]["converter"].startswith("tf2onnx")
    endpoint = serve(cli, tmp_path, "digits-keras", "digits-keras")
    assert endpoint["signature"]["inputs"] == [{"name": "pixels", "datatype": "FP32",
                                                "shape": [-1, 64]}]
    original = keras.models.load_model(run_outputs(host, run, tmp_path / "m") / "digits.keras")
    expected = original.predict(DIGITS, verbose=0)
    assert_close(score(cli, tmp_path, "digits-keras", {"data": DIGITS.tolist()}), expected)
    batch = score(cli, tmp_path, "digits-keras", oip("pixels", DIGITS[:1].astype(np.int64),
                                                     "INT64"))
    assert_close(output(batch, "output_0"), expected[:1])


def test_a_tensorflow_savedmodel_of_a_tf_module_answers_with_both_named_outputs(
        cli, host, tmp_path):
    import tensorflow as tf

    run = train(cli, "tf.yml")
    model = register(cli, "iris-tf", run, framework="TensorFlow", framework_version="2.21")
    assert model["state"] == "Converted", model["error"]
    endpoint = serve(cli, tmp_path, "iris-tf", "iris-tf")
    assert sorted(o["name"] for o in endpoint["signature"]["outputs"]) == [
        "probabilities", "species"]
    saved = tf.saved_model.load(str(run_outputs(host, run, tmp_path / "m")))
    expected = saved.signatures["serving_default"](measurements=tf.constant(IRIS, tf.float32))
    reply = score(cli, tmp_path, "iris-tf", oip("measurements", IRIS))
    assert_close(output(reply, "probabilities"), expected["probabilities"].numpy())
    assert output(reply, "species").tolist() == expected["species"].numpy().tolist()


def test_a_scikit_learn_pipeline_with_a_scaler_answers_like_scikit_learn(cli, host, tmp_path):
    import joblib

    run = train(cli, "sklearn.yml")
    model = register(cli, "iris-pipeline", run, framework="ScikitLearn",
                     framework_version="1.5")
    assert model["state"] == "Converted", model["error"]
    serve(cli, tmp_path, "iris-pipeline", "iris-pipeline")
    pipeline = joblib.load(run_outputs(host, run, tmp_path / "m") / "model.pkl")
    assert score(cli, tmp_path, "iris-pipeline", {"data": IRIS.tolist()}) == \
        pipeline.predict(IRIS).tolist()
    reply = score(cli, tmp_path, "iris-pipeline", oip("input", IRIS))
    assert_close(output(reply, "probabilities"), pipeline.predict_proba(IRIS))


def test_a_module_calling_numpy_fails_conversion_and_the_endpoint_keeps_serving(
        torch_mlp, cli, host, tmp_path):
    run = train(cli, "torch.yml", form="pickled")
    model = register(cli, "digits-torch", run, framework="PyTorch", framework_version="2.13",
                     sample_input_shape="[1, 64]")
    assert (model["version"], model["state"]) == ("2", "ConversionFailed")
    reason = model["error"]["message"]
    assert "NumPy" in reason
    assert model["onnx"]["parity"]["passed"] is False
    assert host.container.blobs.list(f"{model['path']}/model.pt")  # still downloadable

    shown = wait_json(cli, ["online-endpoint", "show", "-n", "digits-torch"],
                      lambda e: e["deployments"][0].get("last_rollout", {}).get("version") == "2")
    deployment = shown["deployments"][0]
    assert deployment["model_version"] == "1"
    assert deployment["last_rollout"]["state"] == "Failed"
    assert "NumPy" in deployment["last_rollout"]["error"]
    reply = score(cli, tmp_path, "digits-torch", oip("input", DIGITS[:2]))
    assert reply["model_version"] == "1"
