"""The intake of each kind of spec, repeated with the same idempotency key after the
first submission's work is done, changes nothing: what a blob trigger firing twice for
one file, or an HTTP client retrying a POST with the same request id, does."""
import pickle

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from shared.handlers.intake import accept_spec
from shared.handlers.registry import handle
from shared.handlers.spec_dropped import accept_dropped_spec
from tests.reliability.ledger import record
from tests.reliability.state import differences, local_world, snapshot

SCHEMA = "$schema: https://azuremlschemas.azureedge.net/latest/{}.schema.json\n"
SPECS = {  # in the order they depend on each other
    "compute": SCHEMA.format("amlCompute") + "name: pool-a\ntype: amlcompute\n"
                                             "min_instances: 0\nmax_instances: 2\n",
    "endpoint": SCHEMA.format("managedOnlineEndpoint") + "name: ep\nauth_mode: key\n",
    "data": SCHEMA.format("data") + "name: rows\ntype: uri_file\npath: ./rows.csv\n",
    "model": SCHEMA.format("model") + "name: iris\ntype: custom_model\npath: ./model.pkl\n"
                                      "tags:\n  framework: ScikitLearn\n",
    "deployment": SCHEMA.format("managedOnlineDeployment") + (
        "name: blue\nendpoint_name: ep\nmodel: azureml:iris@latest\n"
        "instance_type: Standard_DS3_v2\ninstance_count: 1\n"),
    "job": SCHEMA.format("commandJob") + "code: ./src\ncommand: python train.py\n"
                                         "environment: azureml:AzureML-sklearn-1.0@latest\n"
                                         "compute: azureml:pool-a\n",
}
# Launching would start a process; the launch waiting on its queue is state enough.
WORK_QUEUES = ("data-register", "compute-scale", "model-register", "onnx-convert", "deploy")


def drain(container) -> None:
    """Handle everything waiting on the work queues, as the workers would."""
    busy = True
    while busy:
        busy = False
        for queue in WORK_QUEUES:
            while (received := container.bus.receive(queue)) is not None:
                handle(queue, received.envelope.to_json(), container.ports())
                container.bus.complete(received)
                busy = True


def spec_folder(root):
    root.mkdir()
    (root / "src").mkdir()
    (root / "src" / "train.py").write_text("print('hi')\n")
    (root / "rows.csv").write_text("a,b\n1,2\n")
    x, y = load_iris(return_X_y=True)
    (root / "model.pkl").write_bytes(pickle.dumps(LogisticRegression(max_iter=300).fit(x, y)))
    for kind, text in SPECS.items():
        (root / f"{kind}.yml").write_text(text)
    return root


def test_each_kind_of_spec_submitted_again_with_the_same_key_changes_nothing(tmp_path):
    container, _ = local_world(tmp_path)
    folder = spec_folder(tmp_path / "specs")
    p = container.ports()
    ports = {n: p[n] for n in ("blobs", "registry", "bus", "clock")}
    lost = {}
    for kind in SPECS:
        accept_spec(folder / f"{kind}.yml", root=folder, key=f"request-{kind}", **ports)
        drain(container)
        before = snapshot(container)
        accept_spec(folder / f"{kind}.yml", root=folder, key=f"request-{kind}", **ports)
        drain(container)
        lost[kind] = differences(before, snapshot(container))
        record("duplicates", f"{kind} spec submitted twice with one request id", injected=1,
               lost=len(lost[kind]), checked="registry, blobs, bus")
    deployment = container.registry.get("deployment", "ep/blue").body
    assert (deployment["state"], deployment["model_version"]) == ("Succeeded", "1")
    assert len(container.registry.list("run")) == 1
    assert {k: v for k, v in lost.items() if v} == {}


def test_a_dropped_spec_whose_trigger_fires_twice_is_one_run(tmp_path):
    container, _ = local_world(tmp_path)
    folder = spec_folder(tmp_path / "specs")
    p = container.ports()
    ports = {n: p[n] for n in ("blobs", "registry", "bus", "clock")}
    container.blobs.upload_dir(folder, "specs/drop")
    data = container.blobs.get("specs/drop/compute.yml")
    accept_dropped_spec("specs/drop/compute.yml", data, **ports)
    drain(container)
    data = container.blobs.get("specs/drop/job.yml")
    accept_dropped_spec("specs/drop/job.yml", data, **ports)
    drain(container)
    before = snapshot(container)
    accept_dropped_spec("specs/drop/job.yml", data, **ports)
    drain(container)
    changed = differences(before, snapshot(container))
    record("duplicates", "job spec's blob trigger fired twice", injected=1, lost=len(changed),
           checked="registry, blobs, bus")
    assert changed == [] and len(container.registry.list("run")) == 1
