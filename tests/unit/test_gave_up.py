"""A dead-lettered message ends the record it concerned with the reason, once, and leaves
finished records alone."""
import pytest

from shared.adapters.sqlite_bus import SqliteBus
from shared.adapters.sqlite_registry import SqliteRegistry
from shared.bootstrap import SystemClock
from shared.domain import messages as m
from shared.handlers.gave_up import record_gave_up
from shared.ports import Record


@pytest.fixture
def ports(tmp_path):
    return {"registry": SqliteRegistry(tmp_path / "r.db"), "bus": SqliteBus(tmp_path / "b.db"),
            "clock": SystemClock()}


def give_up(message, ports, reason="OSError: disk full"):
    record_gave_up(m.Envelope(message, correlation_id="c").to_json(), reason, **ports)


def test_a_model_version_still_registering_fails_with_the_reason(ports):
    ports["registry"].put(Record("model", "digits", "3", {"state": "Registering"}), etag="")
    give_up(m.RegisterModel(name="digits", source="uploads/x", version="3"), ports)
    body = ports["registry"].get("model", "digits", "3").body
    assert body["state"] == "Failed" and "disk full" in body["error"]["message"]


def test_a_conversion_given_up_is_a_conversion_failure(ports):
    ports["registry"].put(Record("model", "digits", "1", {"state": "Registered"}), etag="")
    give_up(m.ModelRegistered(name="digits", version="1"), ports)
    assert ports["registry"].get("model", "digits", "1").body["state"] == "ConversionFailed"


def test_a_deployment_still_creating_fails(ports):
    ports["registry"].put(Record("deployment", "ep/main", "", {"state": "Creating"}), etag="")
    give_up(m.DeployModel(endpoint="ep", deployment="main"), ports)
    assert ports["registry"].get("deployment", "ep/main").body["state"] == "Failed"


def test_a_run_fails_once_and_frees_its_pool_slot(ports):
    ports["registry"].put(Record("run", "r1", "", {"name": "r1", "status": "Preparing",
                                                   "compute": "gpu", "status_history": []}),
                          etag="")
    give_up(m.LaunchJob(run_id="r1"), ports)
    give_up(m.LaunchJob(run_id="r1"), ports)  # a second give-up changes nothing
    body = ports["registry"].get("run", "r1").body
    assert body["status"] == "Failed" and "gave up on LaunchJob" in body["error"]["message"]
    assert [h["status"] for h in body["status_history"]] == ["Failed"]
    assert ports["bus"].pending("compute-scale") == 1


def test_finished_records_and_unknown_ones_are_left_alone(ports):
    ports["registry"].put(Record("data", "d", "1", {"state": "Registered"}), etag="")
    give_up(m.RegisterData(name="d", version="1", source="uploads/d"), ports)
    give_up(m.RegisterData(name="gone", version="1", source="uploads/g"), ports)
    record_gave_up(b"{not an envelope", "PermanentError: bad", **ports)
    assert ports["registry"].get("data", "d", "1").body["state"] == "Registered"
    assert ports["registry"].get("data", "gone", "1") is None
