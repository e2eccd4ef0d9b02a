"""Crash anywhere, lose nothing: a real `mlcycle up` is SIGKILLed at each stage of a run
that trains, registers, converts and deploys a model, and started again without the
fault. The run must end Completed exactly once, with one run record, one model version
and one deployment, no training process left behind, and nothing half written.

The host is stopped at an exact stage by a pause point (shared/faults.py): the thread
that reaches it blocks, the test sees its marker and kills the host there."""
import json
import os

import pytest

from tests.processes import wait_for
from tests.reliability.crash_host import (TERMINAL, Host, audit, bus_rows, end_orphans,
                                          leftover_processes, records)
from tests.reliability.ledger import record

pytestmark = pytest.mark.e2e
CHECKED = "runs, model versions, deployments, orphan processes, half-written files"
SETOSA, VIRGINICA = [5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]


@pytest.fixture
def up(tmp_path):
    """A `mlcycle up` to kill, on a data root of its own."""
    host = Host(tmp_path)
    yield host
    host.stop()
    end_orphans(leftover_processes(host.home, "-"))


def run_of(host: Host, run_id: str) -> dict:
    return next(r for r in records(host.data, "run") if r["name"] == run_id)


def settle(host: Host, run_id: str) -> None:
    """Wait for the run to end and, if it completed, for its model to be converted."""
    status = wait_for(lambda: (s := host.run_status(run_id)) in TERMINAL and s, 180)
    if status == "Completed":
        wait_for(lambda: host.converted("crash-iris", "1"), 180)


def crash_and_restart(host: Host, run_id: str, fault: str) -> dict:
    """The host, started with a pause point, was given the run: kill it there, start it
    again without the fault, let the run finish, stop the host and audit what it left."""
    host.paused()
    host.kill()
    host.start()
    settle(host, run_id)
    host.stop()
    found = audit(host, run_id)
    record("crash", fault, injected=1, lost=found["lost"], checked=CHECKED)
    return found


def assert_nothing_lost(found: dict) -> None:
    shown = json.dumps(found, indent=1, default=str)  # pytest would cut the dict short
    assert found["ends"] == ["Completed"], shown
    assert found["states"] == ["Converted"], shown
    assert found["lost"] == 0, shown


def test_a_launch_message_taken_when_the_host_dies_is_delivered_again(up, tmp_path):
    up.start(pause_at="LaunchJob:taken")
    run_id = up.submit(tmp_path / "trace")
    up.paused()
    assert run_of(up, run_id)["status"] == "Queued"  # taken, nothing launched yet
    found = crash_and_restart(up, run_id, "SIGKILL of the host with a job-launch message "
                                            "taken but not completed")
    assert_nothing_lost(found)
    assert len((tmp_path / "trace" / "starts.txt").read_text().split()) == 1


def test_training_that_runs_while_the_host_dies_is_adopted_by_the_next_host(up, tmp_path):
    up.start()
    trace = tmp_path / "trace"
    run_id = up.submit(trace, hold=True)
    pid = int(wait_for(lambda: (trace / "starts.txt").exists()
                       and (trace / "starts.txt").read_text().split(), 120)[0])
    wait_for(lambda: up.run_status(run_id) == "Running", 60)
    up.kill()
    os.kill(pid, 0)  # the training outlived its host: raises if it did not
    up.start()
    (trace / "release").touch()
    settle(up, run_id)
    up.stop()
    found = audit(up, run_id)
    record("crash", "SIGKILL of the host while training runs", injected=1,
           lost=found["lost"], checked=CHECKED)
    assert_nothing_lost(found)
    assert (trace / "starts.txt").read_text().split() == [str(pid)]  # adopted, not rerun


def test_a_node_launched_just_before_the_host_dies_is_adopted_not_doubled(up, tmp_path):
    up.start(pause_at="compute:launched")  # the node runs; its pid.json is not written
    trace = tmp_path / "trace"
    run_id = up.submit(trace, hold=True)
    up.paused()
    pid = int(wait_for(lambda: (trace / "starts.txt").exists()
                       and (trace / "starts.txt").read_text().split(), 120)[0])
    up.kill()
    assert not list(up.data.glob("work/*/node-0/pid.json"))  # only the node knows it runs
    up.start()
    (trace / "release").touch()
    settle(up, run_id)
    up.stop()
    found = audit(up, run_id)
    record("crash", "SIGKILL of the host between starting a node and recording its pid",
           injected=1, lost=found["lost"], checked=CHECKED)
    assert_nothing_lost(found)
    assert (trace / "starts.txt").read_text().split() == [str(pid)]


def test_a_completion_recorded_when_the_host_dies_still_registers_the_model(up, tmp_path):
    up.start(pause_at="job-complete:recorded")
    run_id = up.submit(tmp_path / "trace")
    up.paused()
    assert run_of(up, run_id)["status"] == "Completed"
    assert not bus_rows(up.data, "SELECT id FROM events WHERE type = 'RegisterModel'")
    found = crash_and_restart(up, run_id, "SIGKILL of the host while job completion is "
                                            "being recorded")
    assert_nothing_lost(found)


def test_a_model_half_registered_when_the_host_dies_gets_one_version(up, tmp_path):
    up.start(pause_at="model-register:copying")
    run_id = up.submit(tmp_path / "trace")
    up.paused()
    assert [m["state"] for m in records(up.data, "model")] == ["Registering"]
    found = crash_and_restart(up, run_id, "SIGKILL of the host while a model version is "
                                            "being registered")
    assert_nothing_lost(found)


def test_a_conversion_and_a_deployment_cut_short_by_a_crash_finish_once(up, tmp_path):
    up.start(pause_at="onnx-convert:converting")
    run_id = up.submit(tmp_path / "trace")
    converting = crash_and_restart(up, run_id, "SIGKILL of the host while ONNX "
                                                 "conversion runs")

    up.start(pause_at="DeployModel:handled")
    (tmp_path / "ep.yml").write_text("name: crash-ep\nauth_mode: key\n")
    up.cli("online-endpoint", "create", "-f", tmp_path / "ep.yml")
    (tmp_path / "dep.yml").write_text("name: main\nendpoint_name: crash-ep\n"
                                      "model: azureml:crash-iris@latest\ninstance_count: 1\n"
                                      "instance_type: Standard_DS2_v2\n")
    up.cli("online-deployment", "create", "-f", tmp_path / "dep.yml", "--all-traffic",
             "--no-wait")
    up.paused()
    up.kill()
    up.start()
    wait_for(lambda: _deployment(up)["state"] == "Succeeded", 120)
    (tmp_path / "request.json").write_text(json.dumps({"data": [SETOSA, VIRGINICA]}))
    answer = up.cli("online-endpoint", "invoke", "-n", "crash-ep", "--request-file",
                      tmp_path / "request.json")
    up.stop()
    deploying = audit(up, run_id, deployments=1)
    record("crash", "SIGKILL of the host with a deployment rolled out but its message not "
                    "completed", injected=1, lost=deploying["lost"], checked=CHECKED)

    assert_nothing_lost(converting)
    assert_nothing_lost(deploying)
    assert answer == [0, 2]
    assert records(up.data, "endpoint")[0]["traffic"] == {"main": 100}


def _deployment(host: Host) -> dict:
    endpoint = host.get("endpoints/crash-ep")
    return next(d for d in endpoint["deployments"] if d["name"] == "main")
