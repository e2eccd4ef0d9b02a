"""Direct routes: the local server calls the scoring route without Functions' request
and response objects, and that changes nothing a caller sees: the key check, the body
limits and the error contract are the server's as for every route, and the answer is
the Functions route's, byte for byte."""
import json
import threading
import urllib.error
import urllib.request

import azure.functions as func
import numpy as np
import pytest

from shared.api.replies import Reply
from shared.bootstrap import install
from shared.localhost.http_server import make_server
from shared.localhost.triggers import read_triggers
from shared.ports import Record


def app_with_one_route():
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.route(route="things/{name}/poke", methods=["POST"])
    def poke(req: func.HttpRequest) -> func.HttpResponse:
        raise AssertionError("the direct function is called instead")

    return app


@pytest.fixture
def serve():
    servers = []

    def start(direct, **options):
        server = make_server(read_triggers(app_with_one_route()), "k", "127.0.0.1", 0,
                             direct=direct, **options)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/api/things/a%20b/poke"
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def post(url, body=b"{}", headers=None):
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"x-functions-key": "k", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_a_direct_route_gets_its_parameters_lower_case_headers_and_the_body(serve):
    calls = []

    def poke(route_params, headers, body):
        calls.append((route_params, headers, body))
        return Reply(201, {"ok": True}, {"X-Answer": "yes"})
    url = serve({"poke": poke})
    status, headers, body = post(url, b'{"a": 1}', {"Azureml-Model-Deployment": "blue"})
    assert (status, json.loads(body)) == (201, {"ok": True})
    assert headers["X-Answer"] == "yes" and headers["Content-Type"] == "application/json"
    params, seen, sent = calls[0]
    assert params == {"name": "a b"} and sent == b'{"a": 1}'
    assert seen["azureml-model-deployment"] == "blue" and "Azureml-Model-Deployment" not in seen


def test_the_key_and_the_body_limit_are_checked_before_a_direct_route_runs(serve):
    calls = []
    url = serve({"poke": lambda *args: calls.append(args) or Reply(200, {})}, max_body=10)
    request = urllib.request.Request(url, data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401
    status, _, body = post(url, b"x" * 11)
    assert status == 413 and "over 10 bytes" in json.loads(body)["error"]["message"]
    assert calls == []


def test_a_direct_route_that_raises_is_a_json_500_that_says_no_more(serve):
    def poke(*args):
        raise RuntimeError("a secret detail")
    status, _, body = post(serve({"poke": poke}))
    assert status == 500 and b"secret" not in body
    assert json.loads(body)["error"]["code"] == "InternalError"


@pytest.fixture
def deployed(container, tmp_path):
    """An endpoint whose one deployment serves an iris ONNX model."""
    from sklearn.datasets import load_iris

    from tests.unit.test_serving_scorer import sklearn_onnx

    x, y = load_iris(return_X_y=True)
    _, onnx = sklearn_onnx(x.astype(np.float32), y)
    container.blobs.put("models/iris/1/onnx/model.onnx", onnx)
    registry = container.registry
    registry.put(Record("model", "iris", "1", {"onnx": {"path": "models/iris/1/onnx/model.onnx"}}))
    registry.put(Record("endpoint", "ep", "", {"name": "ep", "traffic": {"blue": 100}}))
    registry.put(Record("deployment", "ep/blue", "", {"name": "blue", "endpoint": "ep",
                                                      "model": "iris", "model_version": 1}))
    install(container)
    yield x[:3].tolist()
    install(None)


@pytest.mark.parametrize("name, body, headers", [
    ("ep", {"data": "rows"}, {}),  # filled in with the rows below
    ("ep", {"id": "r1", "inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32",
                                    "data": [5.1, 3.5, 1.4, 0.2]}]}, {}),  # an id: else new
    ("ep", {"data": [[1, 2]]}, {}),  # the wrong width: a 400
    ("ep", {"data": "rows"}, {"azureml-model-deployment": "nosuch"}),
    ("nosuch", {"data": [[1, 2, 3, 4]]}, {}),
])
def test_the_direct_route_answers_what_the_functions_route_answers(deployed, name, body,
                                                                   headers):
    from functions.http_endpoints import DIRECT, score

    if body.get("data") == "rows":
        body = {"data": deployed}
    raw = json.dumps(body).encode()
    request = func.HttpRequest("POST", f"http://h/api/endpoints/{name}/score",
                               headers=headers, route_params={"name": name}, body=raw)
    functions = score(request)
    reply = DIRECT["score"]({"name": name}, headers, raw)
    payload, content_type = reply.payload()
    assert reply.status == functions.status_code
    assert payload == functions.get_body()
    assert {**reply.headers, "Content-Type": content_type} == dict(functions.headers)
