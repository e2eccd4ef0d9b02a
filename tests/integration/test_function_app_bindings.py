"""The function app as Azure loads it: its triggers' bindings, host.json, no secrets.

function_app is imported in a fresh interpreter with the app settings a deployment has,
so what is checked is what the Functions host would index.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared.domain.messages import REGISTRY

REPO_ROOT = Path(__file__).resolve().parents[2]
DESIGN = REPO_ROOT.parent / "shared" / "DESIGN.md"  # beside the checkout, when it is there

# DESIGN.md, "Events and queues"; and the queues of handlers built since, which that
# page (read-only here) does not list yet.
QUEUES = {"data-register", "compute-scale", "job-launch", "job-complete", "model-register",
          "onnx-convert", "deploy", "sweep"}
BEYOND_DESIGN = {"sweep"}

AZURE_SETTINGS = {
    "MLCYCLE_MODE": "azure",
    "AzureWebJobsStorage__accountName": "mlcyclestore",
    "ServiceBusConnection__fullyQualifiedNamespace": "mlcycle-bus.servicebus.windows.net",
    "MLCYCLE_BATCH_ACCOUNT_URL": "https://mlcyclebatch.westeurope.batch.azure.com",
}

INDEX = """
import json, function_app, shared.bootstrap as b
built_at_import = b._current is not None
functions = [{"name": f.get_function_name(), "bindings": json.loads(f.get_function_json())["bindings"]}
             for f in function_app.app.get_functions()]
ports = b.current()
print(json.dumps({"built_at_import": built_at_import, "functions": functions,
                  "adapters": {k: type(getattr(ports, k)).__name__
                               for k in ("blobs", "bus", "registry", "compute")}}))
"""


@pytest.fixture(scope="module")
def app() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLCYCLE_", "Azure"))}
    env.update(AZURE_SETTINGS, PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run([sys.executable, "-c", INDEX], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def triggers(app: dict, kind: str) -> list[dict]:
    return [b | {"function": f["name"]} for f in app["functions"] for b in f["bindings"]
            if b["type"] == kind]


def test_the_queues_here_are_design_mds_queues():
    if DESIGN.exists():
        table = DESIGN.read_text().split("## Events and queues")[1].split("\n## ")[0]
        assert set(re.findall(r"^\| `([a-z-]+)` \|", table, re.M)) | BEYOND_DESIGN == QUEUES
    assert {m.queue for m in REGISTRY.values()
            if m.queue and m.__module__ == "shared.domain.messages"} == QUEUES


def test_every_design_queue_has_one_trigger_and_every_trigger_a_design_queue(app):
    queues = [t["queueName"] for t in triggers(app, "serviceBusTrigger")]
    assert sorted(queues) == sorted(QUEUES)


def test_queue_triggers_name_the_identity_based_service_bus_connection(app):
    assert {t["connection"] for t in triggers(app, "serviceBusTrigger")} == {"ServiceBusConnection"}


def test_the_drop_zone_is_a_blob_trigger_on_specs_through_event_grid(app):
    [spec] = triggers(app, "blobTrigger")
    assert (spec["path"], spec["source"], spec["connection"]) == (
        "specs/{name}", "EventGrid", "AzureWebJobsStorage")


# The SDK door (functions/http_sdk.py): cloud documents azure-ai-ml reads before it has
# a key, and routes that check the bearer key or a signed URL themselves, since the
# Functions host reads neither.
SDK_DOOR = {"arm/metadata/endpoints", "arm/discovery", "subscriptions/{*path}",
            "history/{*path}", "storage/{*path}"}
# The studio (functions/http_studio.py) checks its own cookie: a browser cannot send the
# function key header on a link it follows.
STUDIO = {"studio", "studio/{*path}"}


def test_every_route_wants_a_function_key_but_the_health_check_the_sdk_door_and_studio(app):
    routes = {t["route"]: t["authLevel"] for t in triggers(app, "httpTrigger")}
    assert routes.pop("health") == "ANONYMOUS"
    assert {r: routes.pop(r) for r in SDK_DOOR} == dict.fromkeys(SDK_DOOR, "ANONYMOUS")
    assert {r: routes.pop(r) for r in STUDIO} == dict.fromkeys(STUDIO, "ANONYMOUS")
    assert routes and set(routes.values()) == {"FUNCTION"}


def test_every_function_has_exactly_one_known_trigger(app):
    known = {"serviceBusTrigger", "blobTrigger", "httpTrigger", "timerTrigger"}
    for function in app["functions"]:
        kinds = [b["type"] for b in function["bindings"] if b["type"].endswith("Trigger")]
        assert len(kinds) == 1 and kinds[0] in known, function


def test_importing_the_app_builds_nothing_and_azure_settings_choose_azure_adapters(app):
    assert not app["built_at_import"]
    assert app["adapters"] == {"blobs": "AzureBlobStore", "bus": "ServiceBusBus",
                               "registry": "TableRegistry",
                               "compute": app["adapters"]["compute"]}
    assert app["adapters"]["compute"] == "BatchCompute"


class TestHostJson:
    host = json.loads((REPO_ROOT / "host.json").read_text())

    def test_service_bus_settings_are_set(self):
        service_bus = self.host["extensions"]["serviceBus"]
        assert service_bus["maxConcurrentCalls"] >= 1
        assert service_bus["autoCompleteMessages"] is True  # a raising function abandons
        assert "maxAutoLockRenewalDuration" in service_bus

    def test_a_lock_is_renewed_for_as_long_as_a_function_may_run(self):
        renewal = self.host["extensions"]["serviceBus"]["maxAutoLockRenewalDuration"]
        assert seconds(renewal) >= seconds(self.host["functionTimeout"])

    def test_the_api_lives_under_api(self):
        assert self.host["extensions"]["http"]["routePrefix"] == "api"


SECRET = re.compile(r"AccountKey=|SharedAccessKey=|[?&]sig=|SharedAccessSignature=|"
                    r"[A-Za-z0-9+/]{86}==")


def test_no_secret_is_written_in_the_app():
    files = [REPO_ROOT / "function_app.py", REPO_ROOT / "host.json",
             *sorted((REPO_ROOT / "functions").rglob("*.py")),
             *sorted((REPO_ROOT / "shared").rglob("*.py"))]
    found = [f"{f.relative_to(REPO_ROOT)}: {m[0]}" for f in files
             for m in SECRET.finditer(f.read_text())]
    assert found == []


def seconds(timespan: str) -> int:
    h, m, s = (int(float(x)) for x in timespan.split(":"))
    return h * 3600 + m * 60 + s
