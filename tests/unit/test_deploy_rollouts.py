"""Rolling a no-code deployment to a new model version, with a real scikit-learn model
registered and converted to ONNX by the handlers and health-checked by the real scorer:
named versions are followed like numbered ones, a store that fails for a moment makes
the roll-out raise so the bus retries it, and only a file that is gone fails it."""
import pickle

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from shared.bootstrap import bootstrap
from shared.domain.errors import NotFound
from shared.domain.messages import Envelope, ModelConverted, RegisterModel
from shared.handlers.registry import handle
from shared.ports import Record
from shared.settings import Settings


def deliver(container, queue: str, expected: str) -> None:
    received = container.bus.receive(queue)
    assert received is not None and received.envelope.type == expected
    handle(queue, received.envelope.to_json(), container.ports())
    container.bus.complete(received)


@pytest.fixture(scope="module")
def iris_versions(tmp_path_factory):
    """Versions "1" and "1.1" of `iris`, registered and converted once by the handlers:
    version -> (its record's body, its blobs)."""
    container = bootstrap(Settings(tmp_path_factory.mktemp("convert") / "data"))
    x, y = load_iris(return_X_y=True)
    found = {}
    for version in ("1", "1.1"):
        source = f"uploads/iris-{version}/model.pkl"
        container.blobs.put(source, pickle.dumps(LogisticRegression(max_iter=300).fit(x, y)))
        container.bus.publish(Envelope(RegisterModel(
            name="iris", source=source, version=version, framework="ScikitLearn"),
            correlation_id="iris"))
        deliver(container, "model-register", "RegisterModel")
        deliver(container, "onnx-convert", "ModelRegistered")
        body = container.registry.get("model", "iris", version).body
        assert body["state"] == "Converted", body.get("error")
        blobs = {path: container.blobs.get(path) for path in container.blobs.list(body["path"])}
        found[version] = (body, blobs)
    return found


def converted(container, iris_versions, version: str) -> Envelope:
    """The version as onnx-convert left it, in this test's world; returns the
    ModelConverted that rolls it out."""
    body, blobs = iris_versions[version]
    for path, data in blobs.items():
        container.blobs.put(path, data)
    container.registry.put(Record("model", "iris", version, body))
    return Envelope(ModelConverted("iris", version), correlation_id="iris")


def deployment(container) -> dict:
    return container.registry.get("deployment", "ep/blue").body


@pytest.fixture
def following(container):
    """A deployment following iris@latest, not serving anything yet."""
    container.registry.put(Record("endpoint", "ep", "", {"name": "ep", "traffic": {}}))
    container.registry.put(Record("deployment", "ep/blue", "", {
        "name": "blue", "endpoint": "ep", "model": "iris", "state": "Creating",
        "model_ref": {"version": None, "label": "latest"}, "model_version": None,
        "error": None, "all_traffic": False}))
    return container


class Unreachable:
    """The blob store of a worker that has no local copy of a blob (as on Azure), whose
    reads of one blob fail `times` times the way a dropped connection fails them."""

    def __init__(self, inner, path: str, times: int = 1) -> None:
        self.inner, self.path, self.left = inner, path, times

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def local_path(self, path):
        return None

    def get(self, path):
        if path == self.path and self.left:
            self.left -= 1
            raise ConnectionError("connection reset by the storage account")
        return self.inner.get(path)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The model cache in this test's folder, not the machine's temporary folder."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()


def test_a_deployment_following_latest_moves_to_a_named_version(following, iris_versions):
    first = converted(following, iris_versions, "1")
    handle("deploy", first.to_json(), following.ports())
    assert deployment(following)["model_version"] == "1"

    named = converted(following, iris_versions, "1.1")
    handle("deploy", named.to_json(), following.ports())

    assert (deployment(following)["state"], deployment(following)["model_version"]) == (
        "Succeeded", "1.1")


def test_a_store_failing_for_a_moment_raises_for_a_retry_and_the_retry_rolls_out(
        following, iris_versions, cache):
    event = converted(following, iris_versions, "1")
    onnx = following.registry.get("model", "iris", "1").body["onnx"]["path"]
    following.blobs = Unreachable(following.blobs, onnx)

    with pytest.raises(ConnectionError):
        handle("deploy", event.to_json(), following.ports())
    assert deployment(following)["state"] == "Creating"  # not a failed roll-out
    assert deployment(following).get("last_rollout") is None

    handle("deploy", event.to_json(), following.ports())  # the bus's redelivery
    assert (deployment(following)["state"], deployment(following)["model_version"]) == (
        "Succeeded", "1")


def test_a_converted_model_whose_file_is_gone_fails_the_roll_out_without_retries(
        following, iris_versions, cache):
    event = converted(following, iris_versions, "1")
    onnx = following.registry.get("model", "iris", "1").body["onnx"]["path"]
    following.blobs.delete(onnx)
    following.blobs = Unreachable(following.blobs, onnx, times=0)

    with pytest.raises(NotFound):  # permanent: dead-lettered at once
        handle("deploy", event.to_json(), following.ports())
    body = deployment(following)
    assert body["state"] == "Failed"
    assert body["last_rollout"]["state"] == "Failed"
    assert onnx in body["error"]["message"] and "does not exist" in body["error"]["message"]


def test_a_deployment_pinned_to_a_version_still_converting_waits_for_its_conversion(
        following, iris_versions, cache):
    """Conversion can outlast every retry the bus would give a DeployModel; so the
    deployment waits, spending no delivery, and the version's ModelConverted rolls it."""
    from shared.domain.messages import DeployModel

    body, _ = iris_versions["1"]
    following.registry.put(Record("model", "iris", "1", {**body, "state": "Registered",
                                                         "onnx": None}))
    # An update pinning iris:1 to a deployment that serves version 1 of another model:
    # the version it serves matches, the submission still has to roll out.
    pinned = {**deployment(following), "model_ref": {"version": "1", "label": None},
              "model_version": "1"}
    following.registry.put(Record("deployment", "ep/blue", "", pinned))

    ask = Envelope(DeployModel("ep", "blue"), correlation_id="ep")
    handle("deploy", ask.to_json(), following.ports())  # no TransientError to retry
    assert deployment(following)["state"] == "Creating"
    assert deployment(following)["waiting_for"] == "waiting for model iris:1 to be converted"

    handle("deploy", converted(following, iris_versions, "1").to_json(), following.ports())
    done = deployment(following)
    assert (done["state"], done["model_version"], done["waiting_for"]) == ("Succeeded", "1",
                                                                           None)


def test_a_waiting_deployment_hears_when_its_model_will_never_convert(following):
    from shared.domain.messages import ModelRegistered
    from shared.handlers.gave_up import record_gave_up

    pinned = {**deployment(following), "model_ref": {"version": "7", "label": None}}
    following.registry.put(Record("deployment", "ep/blue", "", pinned))
    following.registry.put(Record("model", "iris", "7", {"name": "iris", "version": "7",
                                                         "state": "Registered"}))
    dead = Envelope(ModelRegistered("iris", "7"), correlation_id="iris")
    record_gave_up(dead.to_json(), "MaxDeliveryCountExceeded: boom",
                   registry=following.registry, bus=following.bus, clock=following.clock)
    deliver(following, "deploy", "ConversionFailed")
    failed = deployment(following)
    assert failed["state"] == "Failed" and "boom" in failed["error"]["message"]
