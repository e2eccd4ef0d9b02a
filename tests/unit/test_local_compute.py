"""LocalCompute runs launch plans as real local processes, staged from a real blob store,
reporting to a real SQLite bus."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from shared.adapters.local_blob import LocalBlobStore
from shared.adapters.local_compute import LocalCompute
from shared.adapters.sqlite_bus import SqliteBus
from shared.domain.errors import NotFound
from shared.runner.metrics import read_run_metrics
from shared.runner.plan import build_plan
from shared.runner.snapshot import snapshot_dir
from tests.processes import wait_for

SCRIPTS = Path(__file__).parent / "runner_scripts"


def alive(pid: int) -> bool:
    """Whether pid runs; a zombie nobody has reaped yet counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"



@pytest.fixture
def blobs(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs")
    digest, data = snapshot_dir(SCRIPTS)
    store.put(f"snapshots/{digest}.tar.gz", data)
    store.put("datasets/iris/1/iris.csv", b"5.1,3.5\n4.9,3.0\n4.7,3.2\n")
    store.snapshot = f"snapshots/{digest}.tar.gz"
    return store


@pytest.fixture
def bus_path(tmp_path):
    return tmp_path / "bus.sqlite"


@pytest.fixture
def compute(tmp_path, blobs, bus_path):
    return LocalCompute(tmp_path / "work", blobs=blobs, bus_path=bus_path, kill_grace_s=2.0)


def job(blobs, run_id: str, command: str, **kw):
    inputs = {"data": {"kind": "file", "blob": "datasets/iris/1/iris.csv"},
              "epochs": {"kind": "literal", "value": 3}}
    return build_plan(run_id, command=command, snapshot=blobs.snapshot, inputs=inputs,
                      outputs=["model"], experiment_name="iris", **kw)


def finished(compute, run_id: str):
    return wait_for(lambda: (s := compute.poll(run_id)).state == "exited" and s)


def pids_of_sleeper(compute, run_id: str) -> list[int]:
    path = compute.work_root / run_id / "node-0/code/outputs/pids.txt"
    return [int(p) for p in wait_for(lambda: path.exists() and path.read_text()).split()]


TRAIN = ("python train.py --data ${{inputs.data}} --epochs ${{inputs.epochs}} "
         "--model_dir ${{outputs.model}}")


# --- a run that succeeds ----------------------------------------------------------------

def test_a_training_script_runs_and_everything_it_leaves_is_collected(compute, blobs):
    compute.submit(job(blobs, "run-ok", TRAIN))
    state = finished(compute, "run-ok")
    compute.collect("run-ok", blobs)

    assert (state.exit_code, state.failed_rank, state.reason) == (0, None, "")
    assert state.started_at <= state.ended_at
    assert blobs.get("runs/run-ok/outputs/x.txt") == b"trained"
    assert blobs.get("runs/run-ok/logs/train.log") == b"done"
    assert blobs.get("runs/run-ok/named_outputs/model/model.txt") == b"weights"
    log = blobs.get("runs/run-ok/user_logs/std_log_process_0.txt").decode()
    assert "epoch 2 rows 3" in log and "finished" in log
    metrics, params = read_run_metrics(blobs, "run-ok")
    assert [(p["step"], p["value"]) for p in metrics["loss"]] == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    assert params == {"epochs": "3"}


def test_the_node_tells_the_bus_it_started_and_ended(compute, blobs, bus_path):
    compute.submit(job(blobs, "run-bus", "echo hi"))
    finished(compute, "run-bus")

    events = SqliteBus(bus_path).events("run-bus")
    assert [(e.id, e.type) for e in events] == [("run-bus-started", "JobStarted"),
                                                ("run-bus-complete-0", "CompleteJob")]
    assert events[0].message.started_at == compute.poll("run-bus").started_at


def test_submitting_twice_starts_the_run_once(compute, blobs):
    plan = job(blobs, "run-twice", "echo once")
    compute.submit(plan)
    first_pid = json.loads((compute.work_root / "run-twice/node-0/pid.json").read_text())
    compute.submit(plan)
    finished(compute, "run-twice")
    compute.submit(plan)

    assert json.loads((compute.work_root / "run-twice/node-0/pid.json").read_text()) == first_pid
    assert compute.read_log("run-twice", 0, 0) == b"once\n"
    assert compute.poll("run-twice").state == "exited"


def test_logs_can_be_read_from_an_offset(compute, blobs):
    compute.submit(job(blobs, "run-log", "echo first; echo second"))
    finished(compute, "run-log")

    assert compute.read_log("run-log", 0, len(b"first\n")) == b"second\n"
    assert compute.read_log("run-log", 7, 0) == b""


def test_collecting_twice_changes_nothing(compute, blobs):
    compute.submit(job(blobs, "run-c", "echo out > outputs/o.txt"))
    finished(compute, "run-c")
    compute.collect("run-c", blobs)
    first = {p: blobs.get(p) for p in blobs.list("runs/run-c")}
    compute.collect("run-c", blobs)

    assert {p: blobs.get(p) for p in blobs.list("runs/run-c")} == first


# --- runs that fail or are stopped ------------------------------------------------------

def test_a_failing_script_keeps_its_exit_code_and_partial_outputs(compute, blobs):
    compute.submit(job(blobs, "run-fail", "python fail.py"))
    state = finished(compute, "run-fail")
    compute.collect("run-fail", blobs)

    assert (state.exit_code, state.failed_rank, state.reason) == (3, 0, "")
    assert blobs.get("runs/run-fail/outputs/partial.txt") == b"half way"
    assert b"about to fail" in blobs.get("runs/run-fail/user_logs/std_log_process_0.txt")


def test_a_run_past_its_timeout_is_killed(compute, blobs):
    compute.submit(job(blobs, "run-slow", "python sleeper.py", timeout_s=1.0))
    pids = pids_of_sleeper(compute, "run-slow")
    state = finished(compute, "run-slow")

    assert state.reason == "timeout"
    assert state.exit_code == 128 + signal.SIGTERM
    assert wait_for(lambda: not any(alive(p) for p in pids), within_s=10)


def test_a_canceled_run_ends_canceled_with_no_process_left(compute, blobs, tmp_path):
    compute.submit(job(blobs, "run-cancel", "python sleeper.py"))
    pids = pids_of_sleeper(compute, "run-cancel")
    # A restarted host knows the run only from its folder.
    adopted = LocalCompute(tmp_path / "work", blobs=blobs)
    assert adopted.poll("run-cancel").state == "running"
    assert adopted.running() == ["run-cancel"]

    adopted.cancel("run-cancel")
    state = finished(adopted, "run-cancel")

    assert state.reason == "canceled"
    assert wait_for(lambda: not any(alive(p) for p in pids), within_s=10)
    assert adopted.running() == []
    adopted.cancel("run-cancel")  # a second cancel is harmless


def test_a_node_whose_host_died_before_writing_its_pid_is_adopted_not_launched_again(
        compute, blobs, tmp_path):
    plan = job(blobs, "run-nopid", "python sleeper.py")
    compute.submit(plan)
    pids = pids_of_sleeper(compute, "run-nopid")
    (compute.work_root / "run-nopid/node-0/pid.json").unlink()  # the host died just before
    adopted = LocalCompute(tmp_path / "work", blobs=blobs)
    assert adopted.poll("run-nopid").state == "running"

    adopted.submit(plan)  # the launch message, delivered again
    assert pids_of_sleeper(adopted, "run-nopid") == pids
    adopted.cancel("run-nopid")
    assert finished(adopted, "run-nopid").reason == "canceled"
    assert wait_for(lambda: not any(alive(p) for p in pids), within_s=10)


def test_a_bootstrap_killed_without_a_word_is_reported_lost(compute, blobs):
    compute.submit(job(blobs, "run-lost", "python sleeper.py"))
    pids = pids_of_sleeper(compute, "run-lost")
    bootstrap = json.loads((compute.work_root / "run-lost/node-0/pid.json").read_text())["pid"]
    try:
        os.killpg(bootstrap, signal.SIGKILL)
        state = finished(compute, "run-lost")
    finally:
        for pid in pids:  # the bootstrap could not stop its children: clean up for it
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    assert (state.state, state.reason, state.exit_code) == ("exited", "lost", None)
    assert compute.running() == ["run-lost"]  # it never wrote exit.json


# --- what the compute does not know -----------------------------------------------------

def test_a_run_never_submitted_is_unknown_and_cancelling_it_is_harmless(compute):
    assert compute.poll("run-none").state == "unknown"
    compute.cancel("run-none")
    assert compute.running() == []
    assert compute.read_log("run-none", 0, 0) == b""


def test_a_missing_input_fails_the_submit_and_leaves_nothing_half_staged(compute, blobs):
    plan = build_plan("run-missing", command="true", snapshot=blobs.snapshot,
                      inputs={"d": {"kind": "file", "blob": "datasets/nope/1/x.csv"}},
                      outputs=[], experiment_name="e")

    with pytest.raises(NotFound):
        compute.submit(plan)
    assert not (compute.work_root / "run-missing/node-0").exists()
    assert compute.poll("run-missing").state == "unknown"
