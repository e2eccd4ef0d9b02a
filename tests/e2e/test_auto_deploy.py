"""An endpoint that follows <model>@latest moves to each new converted version by itself;
the old version serves until the new one answers; a failed conversion moves nothing."""
import json
import time

import joblib
import pytest

pytestmark = pytest.mark.e2e


def wait_json(cli, argv, done, timeout=180):
    deadline = time.monotonic() + timeout
    while not done(result := cli.json(*argv)):
        assert time.monotonic() < deadline, result
        time.sleep(0.3)
    return result


def train(path, flip: bool):
    """Two versions that disagree on purpose: v2 predicts the labels reversed."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=500).fit(x, 2 - y if flip else y), path)


def register(cli, path):
    model = cli.json("model", "create", "--name", "follow", "--path", path,
                     "--type", "custom_model", "--tags", "framework=ScikitLearn")
    return wait_json(cli, ["model", "show", "-n", "follow", "-v", model["version"]],
                     lambda m: m["state"] not in ("Registering", "Registered"))


def serving(cli):
    endpoint = cli.json("online-endpoint", "show", "-n", "follow-ep")
    return next(d for d in endpoint["deployments"] if d["name"] == "main")


def score(cli, tmp_path, body):
    request = tmp_path / "request.json"
    request.write_text(json.dumps(body))
    return cli.json("online-endpoint", "invoke", "-n", "follow-ep", "--request-file", request)


SETOSA, VIRGINICA = [5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]


def test_a_new_version_is_deployed_by_itself_and_a_failed_one_is_not(cli, tmp_path):
    train(tmp_path / "v1.pkl", flip=False)
    assert register(cli, tmp_path / "v1.pkl")["state"] == "Converted"
    (tmp_path / "ep.yml").write_text("name: follow-ep\nauth_mode: key\n")
    cli.json("online-endpoint", "create", "-f", tmp_path / "ep.yml")
    (tmp_path / "dep.yml").write_text("name: main\nendpoint_name: follow-ep\n"
                                      "model: azureml:follow@latest\ninstance_count: 1\n"
                                      "instance_type: Standard_DS2_v2\n")
    code, _, err = cli("online-deployment", "create", "-f", tmp_path / "dep.yml",
                       "--all-traffic")
    assert code == 0, err
    assert serving(cli)["model_version"] == "1"
    assert score(cli, tmp_path, {"data": [SETOSA, VIRGINICA]}) == [0, 2]

    train(tmp_path / "v2.pkl", flip=True)
    assert register(cli, tmp_path / "v2.pkl")["state"] == "Converted"
    wait_json(cli, ["online-endpoint", "show", "-n", "follow-ep"],
              lambda e: e["deployments"][0]["model_version"] == "2")
    assert score(cli, tmp_path, {"input_data": [SETOSA, VIRGINICA]}) == [2, 0]

    (tmp_path / "v3.pkl").write_bytes(b"not a pickle")
    assert register(cli, tmp_path / "v3.pkl")["state"] == "ConversionFailed"
    assert serving(cli)["model_version"] == "2"
    answer = score(cli, tmp_path, {"inputs": [{"name": "input", "shape": [1, 4],
                                               "datatype": "FP32", "data": SETOSA}]})
    assert answer["model_version"] == "2"
    label = next(o for o in answer["outputs"] if o["datatype"] == "INT64")
    assert label["data"] == [2]


def test_a_wrongly_shaped_request_is_a_400_naming_the_expected_shape(cli, tmp_path):
    code, _, err = cli("online-endpoint", "invoke", "-n", "follow-ep", "--request-file",
                       _write(tmp_path, {"data": [[1.0, 2.0]]}))
    assert code == 1
    assert "4" in err and "Traceback" not in err


def _write(tmp_path, body):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(body))
    return path
