"""A job file written by someone else goes the whole way through the CLI alone:
train, register, convert, deploy, score."""
import json
import shutil
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
pytestmark = pytest.mark.e2e


def wait_json(cli, argv, done, timeout=240):
    deadline = time.monotonic() + timeout
    while True:
        result = cli.json(*argv)
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


@pytest.fixture(scope="module")
def iris_job(tmp_path_factory):
    from sklearn.datasets import load_iris

    folder = tmp_path_factory.mktemp("iris")
    shutil.copytree(HERE / "iris", folder, dirs_exist_ok=True)
    frame = load_iris(as_frame=True).frame.rename(columns={"target": "species"})
    (folder / "data").mkdir()
    frame.to_csv(folder / "data" / "iris.csv", index=False)
    (folder / "src" / "scratch.tmp").write_text("ignored by .amlignore")
    return folder


def test_a_foreign_job_file_trains_registers_converts_deploys_and_scores(cli, iris_job, host):
    run = cli.json("job", "create", "-f", iris_job / "job.yml", "--set", "inputs.n_estimators=15")
    assert run["status"] in ("NotStarted", "Queued", "Preparing", "Starting", "Running")
    code, out, err = cli("job", "stream", "-n", run["name"])
    assert code == 0, err + out
    assert "rows: 150" in out  # the script's own output, streamed

    shown = cli.json("job", "show", "-n", run["name"])
    assert shown["status"] == "Completed"
    assert shown["metrics"]["n_estimators"] == 15.0  # --set reached the script
    assert shown["metrics"]["test_accuracy"] > 0.8
    statuses = [s["status"] for s in shown["status_history"]]
    assert statuses[0] == "NotStarted" and statuses[-1] == "Completed"
    assert "Running" in statuses and "Finalizing" in statuses

    download = iris_job / "download"
    code, _, err = cli("job", "download", "-n", run["name"], "--all", "--download-path", download)
    assert code == 0, err
    assert (download / "outputs" / "iris-model.pkl").exists()
    assert "rows: 150" in (download / "user_logs" / "std_log_process_0.txt").read_text()

    model = cli.json("model", "create", "--name", "iris-forest", "--type", "custom_model",
                     "--path", f"azureml://jobs/{run['name']}/outputs/artifacts/paths/iris-model.pkl",
                     "--tags", "framework=ScikitLearn")
    model = wait_json(cli, ["model", "show", "-n", "iris-forest", "-v", model["version"]],
                      lambda m: m["state"] not in ("Registering", "Registered"))
    assert model["state"] == "Converted", model
    assert model["onnx"]["parity"]["passed"] is True
    assert model["lineage"]["run"] == run["name"]

    # The registered file comes back byte for byte, with the ONNX conversion beside it.
    code, _, err = cli("model", "download", "-n", "iris-forest", "-v", "latest",
                       "-p", iris_job / "models")
    assert code == 0, err
    fetched = iris_job / "models" / "iris-forest"
    trained = (download / "outputs" / "iris-model.pkl").read_bytes()
    assert (fetched / "iris-model.pkl").read_bytes() == trained
    assert (fetched / "onnx" / "model.onnx").stat().st_size > 0

    endpoint_yml = iris_job / "endpoint.yml"
    endpoint_yml.write_text("name: iris\nauth_mode: key\n")
    cli.json("online-endpoint", "create", "-f", endpoint_yml)
    deployment_yml = iris_job / "deployment.yml"
    deployment_yml.write_text("name: blue\nendpoint_name: iris\n"
                              "model: azureml:iris-forest@latest\n"
                              "instance_type: Standard_DS2_v2\ninstance_count: 1\n")
    code, out, err = cli("online-deployment", "create", "-f", deployment_yml, "--all-traffic")
    assert code == 0, err

    request = iris_job / "request.json"
    request.write_text(json.dumps({"data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}))
    answer = cli.json("online-endpoint", "invoke", "-n", "iris", "--request-file", request)
    assert answer == [0, 2]

    shown = cli.json("online-endpoint", "show", "-n", "iris")
    assert shown["traffic"] == {"blue": 100}
    assert shown["signature"]["inputs"][0]["shape"][-1] == 4


def test_a_script_that_exits_3_fails_with_its_code_log_and_partial_outputs(cli, host):
    run = cli.json("job", "create", "-f", HERE / "failing" / "job.yml")
    code, out, _ = cli("job", "stream", "-n", run["name"])
    assert code == 1
    shown = cli.json("job", "show", "-n", run["name"])
    assert shown["status"] == "Failed"
    assert shown["exit_code"] == 3
    assert "exited with code 3" in shown["error"]["message"]
    assert "something went wrong" in shown["log_tail"]
    files = host.container.blobs.list(f"runs/{run['name']}/outputs")
    assert files == [f"runs/{run['name']}/outputs/partial.txt"]


def test_a_request_without_the_key_gets_401_and_nothing_else(host):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{host.url}/api/jobs")
    assert caught.value.code == 401
    body = json.loads(caught.value.read())
    assert body == {"error": {"code": "Unauthorized", "message": "a valid key is required"}}
    with urllib.request.urlopen(f"{host.url}/api/health") as ok:
        assert ok.status == 200
