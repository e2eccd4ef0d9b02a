"""Messages that can overtake each other on the bus leave the state that the order they
were sent in leaves. Two worlds get the same messages, one in order and one with the
pair swapped; their whole states are compared."""
import pickle

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from shared.domain.messages import REGISTRY, Envelope, RegisterModel
from shared.handlers.registry import handle
from tests.reliability.delivery import Courier, take
from tests.reliability.ledger import record
from tests.reliability.state import differences, local_world, masked, snapshot
from tests.reliability.test_duplicates import follow, job_world, node_reported

# Times a node reads from its own clock: two worlds cannot agree on them.
NODE_TIMES = ("start_time", "started_at")


def deliver_in(container, queue: str, expected: list[str], order: list[int]) -> None:
    """Take the messages on queue (their types as expected) and handle them in order."""
    taken = [take(container, queue, kind) for kind in expected]
    for index in order:
        handle(queue, taken[index].envelope.to_json(), container.ports())
    for received in taken:
        container.bus.complete(received)


def comparable(container) -> dict:
    """The state two orders must agree on: records, blobs, and every command sent or
    waiting. Announcements (events no handler takes, like ModelDeployed) tell the path
    taken, which rightly differs: in order, version 1 did serve for a while."""
    state = masked(snapshot(container, work=False), NODE_TIMES)
    # A JobStarted carries the node's clock; that it went out, and why, is what counts.
    state["bus"] = {key: (value["type"], value["causation_id"]) if key[0] == "event" else value
                    for key, value in state["bus"].items()
                    if key[0] != "event" or REGISTRY[value["type"]].queue is not None}
    # The ONNX exporter names graph nodes afresh on every conversion; equal content is
    # out of reach, a converted model in the same place is what matters.
    state["blobs"] = {path: "<onnx>" if path.endswith(".onnx") else digest
                      for path, digest in state["blobs"].items()}
    return state


def job_run_to_its_reports(root):
    container, locks, run_id = job_world(root, "order-1")
    courier = Courier(container, locks)
    courier.once("compute-scale", "JobSubmitted")
    courier.once("job-launch", "LaunchJob", node_reported(container, run_id))
    return container, run_id


def test_job_started_arriving_after_complete_job_leaves_the_in_order_state(tmp_path):
    in_order, run_id = job_run_to_its_reports(tmp_path / "in-order")
    swapped, _ = job_run_to_its_reports(tmp_path / "swapped")
    kinds = ["JobStarted", "CompleteJob"]
    deliver_in(in_order, "job-complete", kinds, [0, 1])
    deliver_in(swapped, "job-complete", kinds, [1, 0])
    diffs = differences(comparable(in_order), comparable(swapped))
    record("duplicates", "JobStarted delivered after CompleteJob (out of order)", injected=1,
           lost=len(diffs), checked="registry, blobs, bus")
    assert diffs == [], "\n".join(diffs)
    run = swapped.registry.get("run", run_id).body
    assert run["status"] == "Completed" and run["start_time"]


def models_converted(root, models: list[bytes]):
    """A world where versions 1..n of `iris` are converted and their ModelConverted
    messages wait on the deploy queue, and a deployment follows iris@latest."""
    container, locks = local_world(root)
    courier = Courier(container, locks)
    follow(container, "ep", "blue", "iris")
    for version, data in enumerate(models, start=1):
        container.blobs.put(f"uploads/iris-{version}/model.pkl", data)
        container.bus.publish(Envelope(RegisterModel(
            name="iris", source=f"uploads/iris-{version}/model.pkl", version=str(version),
            framework="ScikitLearn"), id=f"model-iris-{version}", correlation_id="iris"))
        courier.once("model-register", "RegisterModel")
        courier.once("onnx-convert", "ModelRegistered")
    return container


def test_an_older_version_converted_after_a_newer_one_does_not_roll_back(tmp_path):
    x, y = load_iris(return_X_y=True)
    models = [pickle.dumps(LogisticRegression(max_iter=max_iter).fit(x, y))
              for max_iter in (300, 500)]
    in_order = models_converted(tmp_path / "in-order", models)
    swapped = models_converted(tmp_path / "swapped", models)
    kinds = ["ModelConverted", "ModelConverted"]
    deliver_in(in_order, "deploy", kinds, [0, 1])
    deliver_in(swapped, "deploy", kinds, [1, 0])
    diffs = differences(comparable(in_order), comparable(swapped))
    record("duplicates", "deploy of model version 1 delivered after version 2 (out of order)",
           injected=1, lost=len(diffs), checked="registry, blobs, bus")
    assert diffs == [], "\n".join(diffs)
    deployment = swapped.registry.get("deployment", "ep/blue").body
    assert (deployment["state"], deployment["model_version"]) == ("Succeeded", "2")
