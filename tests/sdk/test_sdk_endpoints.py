"""Online endpoints through the real azure-ai-ml: two real scikit-learn models behind
blue and green deployments, a 90/10 split, mirrored traffic, keys, logs and deletes,
and the SDK's own errors carrying mlcycle's reasons."""
import json
import time
from collections import Counter

import pytest
import requests

pytestmark = pytest.mark.e2e

ENDPOINT = "iris-sdk"
SETOSA, VIRGINICA = [5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]
WAIT_S = 600  # bound on waiting for conversions and mirrored copies on a loaded machine


def registered(ml_client, folder, name):
    from azure.ai.ml.entities import Model

    model = ml_client.models.create_or_update(Model(
        path=str(folder), name=name, type="custom_model", tags={"framework": "ScikitLearn"}))
    deadline = time.monotonic() + WAIT_S
    while True:
        state = ml_client.models.get(name, model.version).properties.get("mlcycle.state")
        if state not in ("Registering", "Registered") or time.monotonic() > deadline:
            return model, state
        time.sleep(0.5)


@pytest.fixture(scope="module")
def iris_models(ml_client, tmp_path_factory):
    """Versions 1 and 2 of a real classifier; version 2 learned labels shifted by one, so
    that an answer tells which version gave it (setosa: 0 from v1, 1 from v2)."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    versions = []
    for shift in (0, 1):
        folder = tmp_path_factory.mktemp(f"iris-v{shift + 1}")
        classifier = LogisticRegression(max_iter=1000).fit(features, (labels + shift) % 3)
        joblib.dump(classifier, folder / "model.pkl")
        model, state = registered(ml_client, folder, "iris-sdk-model")
        assert state == "Converted", (model.version, state)
        versions.append(model)
    return versions


@pytest.fixture(scope="module")
def endpoint(ml_client, iris_models):
    """The endpoint, blue serving version 1 and green version 2, traffic 90/10."""
    from azure.ai.ml.entities import ManagedOnlineEndpoint

    created = ml_client.online_endpoints.begin_create_or_update(
        ManagedOnlineEndpoint(name=ENDPOINT, auth_mode="key", tags={"team": "sdk"})).result()
    assert created.provisioning_state == "Succeeded"
    for name, model in zip(("blue", "green"), iris_models):
        deployed = ml_client.online_deployments.begin_create_or_update(
            deployment(name, model)).result()
        assert deployed.provisioning_state == "Succeeded", deployed
    route(ml_client, traffic={"blue": 90, "green": 10}, mirror={})
    return ENDPOINT


def deployment(name, model, endpoint_name=ENDPOINT):
    from azure.ai.ml.entities import ManagedOnlineDeployment

    return ManagedOnlineDeployment(name=name, endpoint_name=endpoint_name, model=model,
                                   instance_type="Standard_DS3_v2", instance_count=1)


def route(ml_client, *, traffic, mirror):
    current = ml_client.online_endpoints.get(ENDPOINT)
    current.traffic, current.mirror_traffic = traffic, mirror
    return ml_client.online_endpoints.begin_create_or_update(current).result()


@pytest.fixture(autouse=True)
def invoke_headers():
    """azure-ai-ml's invoke writes the deployment it names into a dict it shares across
    calls (EndpointInvokeFields.DEFAULT_HEADER): a later invoke without a name would
    still go to that deployment. Each test starts from the SDK's own default."""
    from azure.ai.ml.constants._endpoint import EndpointInvokeFields

    saved = dict(EndpointInvokeFields.DEFAULT_HEADER)
    yield
    EndpointInvokeFields.DEFAULT_HEADER.clear()
    EndpointInvokeFields.DEFAULT_HEADER.update(saved)


@pytest.fixture
def request_file(tmp_path):
    def write(*rows):
        path = tmp_path / "request.json"
        path.write_text(json.dumps({"data": [list(r) for r in rows]}))
        return str(path)
    return write


def test_deployments_report_what_they_serve_once_created(ml_client, endpoint, iris_models):
    blue = ml_client.online_deployments.get("blue", endpoint)
    assert blue.provisioning_state == "Succeeded"
    assert blue.model.endswith(f"/models/iris-sdk-model/versions/{iris_models[0].version}")
    assert blue.instance_count == 1 and blue.instance_type == "Standard_DS3_v2"
    assert blue.properties["mlcycle.servedModel"] == f"iris-sdk-model:{iris_models[0].version}"
    assert sorted(d.name for d in ml_client.online_deployments.list(endpoint)) == ["blue",
                                                                                   "green"]
    shown = ml_client.online_endpoints.get(endpoint)
    assert shown.traffic == {"blue": 90, "green": 10}
    assert shown.tags == {"team": "sdk"}
    assert shown.scoring_uri.startswith("https://127.0.0.1:")
    assert shown.scoring_uri.endswith(f"/onlineEndpoints/{endpoint}/score")


def test_invoke_answers_with_each_deployments_predictions(ml_client, endpoint, request_file):
    body = request_file(SETOSA, VIRGINICA)
    assert json.loads(ml_client.online_endpoints.invoke(
        endpoint_name=endpoint, request_file=body, deployment_name="blue")) == [0, 2]
    assert json.loads(ml_client.online_endpoints.invoke(
        endpoint_name=endpoint, request_file=body, deployment_name="green")) == [1, 0]


def test_a_90_10_split_shows_in_200_calls(ml_client, endpoint, request_file):
    body = request_file(SETOSA)
    answers = Counter(ml_client.online_endpoints.invoke(endpoint_name=endpoint,
                                                        request_file=body)
                      for _ in range(200))
    by_version = {"blue": answers.pop("[0]", 0), "green": answers.pop("[1]", 0)}
    assert not answers, answers  # nothing but the two models' answers
    # Binomial(200, 0.1): 20 expected; outside 5..45 has odds under 1 in 100,000.
    assert 5 <= by_version["green"] <= 45, by_version
    assert by_version["blue"] + by_version["green"] == 200


def test_mirrored_traffic_reaches_the_mirror_and_never_the_caller(ml_client, endpoint,
                                                                   request_file):
    routed = route(ml_client, traffic={"blue": 100}, mirror={"green": 10})
    try:
        assert routed.mirror_traffic == {"green": 10}
        body = request_file(SETOSA)
        answers = Counter(ml_client.online_endpoints.invoke(endpoint_name=endpoint,
                                                            request_file=body)
                          for _ in range(200))
        assert answers == {"[0]": 200}  # blue's answer every time: the copies' are dropped
        mirrored = wait_for_mirrored(ml_client, endpoint)
    finally:
        route(ml_client, traffic={"blue": 90, "green": 10}, mirror={})
    sent, answered, failed, dropped = mirrored
    assert (failed, dropped) == (0, 0) and answered == sent
    assert 5 <= sent <= 45, mirrored  # 10% of 200, as in the split
    assert "mirrored requests" not in ml_client.online_deployments.get_logs("blue", endpoint, 50)


def wait_for_mirrored(ml_client, endpoint):
    """(sent, answered, failed, dropped) from green's logs, once every copy ended."""
    import re

    deadline = time.monotonic() + WAIT_S
    while True:
        logs = ml_client.online_deployments.get_logs("green", endpoint, 50)
        found = re.search(r"(\d+) sent, (\d+) answered, (\d+) failed, (\d+) dropped", logs)
        counts = tuple(int(n) for n in found.groups()) if found else None
        if counts and counts[0] == sum(counts[1:]) or time.monotonic() > deadline:
            assert counts is not None, logs
            return counts
        time.sleep(0.2)


def test_list_keys_gives_the_key_the_scoring_route_takes(ml_client, endpoint, sdk_host):
    keys = ml_client.online_endpoints.get_keys(endpoint)
    assert keys.primary_key and keys.secondary_key
    uri = ml_client.online_endpoints.get(endpoint).scoring_uri
    bundle = str(sdk_host.tls.bundle)
    for key in (keys.primary_key, keys.secondary_key):
        answer = requests.post(uri, json={"data": [SETOSA]}, verify=bundle, timeout=60,
                               headers={"Authorization": f"Bearer {key}",
                                        "azureml-model-deployment": "green"})
        assert (answer.status_code, answer.json()) == (200, [1])
        assert answer.headers["azureml-model-deployment"] == "green"
    refused = requests.post(uri, json={"data": [SETOSA]}, verify=bundle, timeout=60,
                            headers={"Authorization": f"Bearer {keys.primary_key}x"})
    assert refused.status_code == 401


def test_get_logs_tells_the_roll_out(ml_client, endpoint, iris_models):
    logs = ml_client.online_deployments.get_logs("green", endpoint, 100)
    version = iris_models[1].version
    assert f"deployment {endpoint}/green: Succeeded" in logs
    assert f"serving version {version}" in logs
    assert f"last roll-out: version {version} Succeeded" in logs


def test_deleting_a_deployment_stops_it_and_naming_it_then_fails_clearly(
        ml_client, endpoint, iris_models, request_file, sdk_host):
    from azure.ai.ml.exceptions import ValidationException
    from azure.core.exceptions import ResourceNotFoundError

    ml_client.online_deployments.begin_create_or_update(
        deployment("spare", iris_models[0])).result()
    route(ml_client, traffic={"blue": 90, "green": 10}, mirror={"spare": 10})
    ml_client.online_deployments.begin_delete("spare", endpoint).result()

    assert "spare" not in {d.name for d in ml_client.online_deployments.list(endpoint)}
    with pytest.raises(ResourceNotFoundError, match="'iris-sdk/spare' does not exist"):
        ml_client.online_deployments.get("spare", endpoint)
    assert ml_client.online_endpoints.get(endpoint).mirror_traffic == {}
    with pytest.raises(ValidationException, match="spare not found"):
        ml_client.online_endpoints.invoke(endpoint_name=endpoint,
                                          request_file=request_file(SETOSA),
                                          deployment_name="spare")
    # Posted to the scoring URI without the SDK's own check, mlcycle names the problem.
    answer = requests.post(ml_client.online_endpoints.get(endpoint).scoring_uri,
                           json={"data": [SETOSA]}, verify=str(sdk_host.tls.bundle),
                           timeout=60, headers={"Authorization": f"Bearer {sdk_host.key}",
                                                "azureml-model-deployment": "spare"})
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "deployment 'spare' does not exist"


def test_a_deployment_of_an_unregistered_model_gets_mlcycles_reason(ml_client, endpoint):
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as refused:
        ml_client.online_deployments.begin_create_or_update(
            deployment("ghost", "azureml:no-such-model:1")).result()
    assert refused.value.status_code == 400
    assert "model 'no-such-model' is not registered" in str(refused.value)
    assert "ghost" not in {d.name for d in ml_client.online_deployments.list(endpoint)}


def test_traffic_to_a_deployment_that_does_not_exist_is_refused(ml_client, endpoint):
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as refused:
        route(ml_client, traffic={"blue": 50, "nosuch": 50}, mirror={})
    assert refused.value.status_code == 400
    assert "names deployment 'nosuch', which it does not have" in str(refused.value)
    assert ml_client.online_endpoints.get(endpoint).traffic == {"blue": 90, "green": 10}


def test_a_roll_out_that_fails_raises_with_mlcycles_reason(ml_client, endpoint, tmp_path):
    from azure.core.exceptions import HttpResponseError

    (tmp_path / "model.pkl").write_bytes(b"not a pickle")
    broken, state = registered(ml_client, tmp_path, "iris-sdk-broken")
    assert state == "ConversionFailed", state
    try:
        with pytest.raises(HttpResponseError, match="cannot be served"):
            ml_client.online_deployments.begin_create_or_update(
                deployment("broken", broken)).result()
        failed = ml_client.online_deployments.get("broken", endpoint)
        assert failed.provisioning_state == "Failed"
        assert "cannot be served" in failed.properties["mlcycle.error"]
    finally:
        ml_client.online_deployments.begin_delete("broken", endpoint).result()


def test_deleting_an_endpoint_deletes_its_deployments(ml_client, iris_models, sdk_host):
    from azure.ai.ml.entities import ManagedOnlineEndpoint
    from azure.core.exceptions import ResourceNotFoundError

    ml_client.online_endpoints.begin_create_or_update(
        ManagedOnlineEndpoint(name="iris-sdk-gone")).result()
    ml_client.online_deployments.begin_create_or_update(
        deployment("only", iris_models[0], endpoint_name="iris-sdk-gone")).result()
    ml_client.online_endpoints.begin_delete("iris-sdk-gone").result()
    with pytest.raises(ResourceNotFoundError, match="endpoint 'iris-sdk-gone' does not exist"):
        ml_client.online_endpoints.get("iris-sdk-gone")
    assert "iris-sdk-gone" not in {e.name for e in ml_client.online_endpoints.list()}
    assert sdk_host.container.registry.get("deployment", "iris-sdk-gone/only") is None


SCORE_SCRIPT = '''import json
import os
from pathlib import Path

import joblib

model = None


def init():
    global model
    path = next(Path(os.environ["AZUREML_MODEL_DIR"]).rglob("model.pkl"))
    model = joblib.load(path)
    print(f"scripted init: loaded {path.name}", flush=True)


def run(raw):
    with open(os.environ["CALLS_FILE"], "a") as calls:
        calls.write("call\\n")
    return model.predict(json.loads(raw)["data"]).tolist()
'''


def test_a_scoring_script_deployment_serves_and_its_output_is_in_its_logs(
        ml_client, endpoint, iris_models, request_file, tmp_path):
    from azure.ai.ml.entities import CodeConfiguration, ManagedOnlineDeployment

    code = tmp_path / "score"
    code.mkdir()
    (code / "score.py").write_text(SCORE_SCRIPT)
    calls = tmp_path / "calls.txt"
    scripted = ManagedOnlineDeployment(
        name="scripted", endpoint_name=endpoint, model=iris_models[0],
        code_configuration=CodeConfiguration(code=str(code), scoring_script="score.py"),
        environment="azureml:AzureML-sklearn-1.5@latest", instance_type="Standard_DS3_v2",
        instance_count=1, environment_variables={"CALLS_FILE": str(calls)})
    try:
        deployed = ml_client.online_deployments.begin_create_or_update(scripted).result()
        assert deployed.provisioning_state == "Succeeded"
        assert deployed.code_configuration.scoring_script == "score.py"
        answer = ml_client.online_endpoints.invoke(endpoint_name=endpoint,
                                                   request_file=request_file(SETOSA, VIRGINICA),
                                                   deployment_name="scripted")
        assert json.loads(answer) == [0, 2]
        assert calls.read_text() == "call\n"  # run() itself answered
        logs = ml_client.online_deployments.get_logs("scripted", endpoint, 20)
        assert "serves: scoring script score.py" in logs
        assert "scripted init: loaded model.pkl" in logs
    finally:
        ml_client.online_deployments.begin_delete("scripted", endpoint).result()


def test_an_aml_token_endpoint_hands_out_the_key_its_scoring_route_takes(ml_client,
                                                                          sdk_host):
    from azure.ai.ml.entities import EndpointAuthToken, ManagedOnlineEndpoint

    ml_client.online_endpoints.begin_create_or_update(
        ManagedOnlineEndpoint(name="iris-sdk-token", auth_mode="aml_token")).result()
    try:
        assert ml_client.online_endpoints.get("iris-sdk-token").auth_mode == "aml_token"
        token = ml_client.online_endpoints.get_keys("iris-sdk-token")
        assert isinstance(token, EndpointAuthToken)
        assert token.access_token == sdk_host.key
    finally:
        ml_client.online_endpoints.begin_delete("iris-sdk-token").result()
