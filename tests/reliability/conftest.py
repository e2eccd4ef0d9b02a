"""Fixtures any reliability test may use: a real local host per module (SQLite bus and
registry, local blobs and processes, HTTP on 127.0.0.1), the CLI in process against it,
and raw HTTP to it with or without the key."""
import contextlib
import io
import json
from http.client import HTTPConnection

import pytest

from shared.localhost.host import LocalHost, write_config
from shared.settings import Settings
from tests.cli_runs import cli_for


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlcycle")
    with LocalHost(Settings(root / "data", retry_backoff_s=0.2)) as local:
        local.container.bus.pending()  # the bus file has its tables before anyone reads it
        local.home = root / "home"
        write_config(local.url, local.key, local.home)
        yield local


@pytest.fixture
def cli(host, monkeypatch):
    """`mlcycle ARGS` in process against the host: (exit code, stdout, stderr); `.json`
    asserts success and parses stdout."""
    return cli_for(host.home, monkeypatch)


class Answer:
    def __init__(self, status: int, headers: dict, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


@pytest.fixture
def api(host):
    """`api(method, path, body=b"", headers=None, key=True)` sends one raw request on
    a fresh connection; key=True sends the host's key, a string sends that instead."""

    def send(method, path, body=b"", headers=None, key=True) -> Answer:
        headers = dict(headers or {})
        if key is True:
            headers["x-functions-key"] = host.key
        elif key:
            headers["x-functions-key"] = key
        conn = HTTPConnection(host.host, host.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return Answer(resp.status, dict(resp.getheaders()), resp.read())
        finally:
            conn.close()

    return send


@pytest.fixture(scope="module")
def iris_endpoint(host, tmp_path_factory):
    """An endpoint `iris` whose deployment `blue` serves a real iris classifier, made the
    way a user makes one: model create from a pickle, conversion, endpoint, deployment.
    Returns the endpoint's name; the model takes FP32 rows of 4 features."""
    import pickle
    import time

    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from shared.cli.main import main

    folder = tmp_path_factory.mktemp("iris-model")
    X, y = load_iris(return_X_y=True)
    (folder / "model.pkl").write_bytes(pickle.dumps(LogisticRegression(max_iter=500).fit(X, y)))
    (folder / "endpoint.yml").write_text("name: iris\nauth_mode: key\n")
    (folder / "deployment.yml").write_text(
        "name: blue\nendpoint_name: iris\nmodel: azureml:iris-lr@latest\n"
        "instance_type: Standard_DS2_v2\ninstance_count: 1\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLCYCLE_HOME", str(host.home))
        mp.delenv("MLCYCLE_ENDPOINT", raising=False)
        mp.delenv("MLCYCLE_KEY", raising=False)

        def run(*argv):
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                assert main([str(a) for a in argv]) == 0, argv
            return json.loads(out.getvalue() or "null")

        run("model", "create", "-n", "iris-lr", "-p", folder / "model.pkl",
            "--tags", "framework=ScikitLearn")
        deadline = time.monotonic() + 240
        while run("model", "show", "-n", "iris-lr", "-l", "latest")["state"] != "Converted":
            assert time.monotonic() < deadline, "the iris model did not convert"
            time.sleep(0.3)
        run("online-endpoint", "create", "-f", folder / "endpoint.yml")
        run("online-deployment", "create", "-f", folder / "deployment.yml", "--all-traffic")
    return "iris"
