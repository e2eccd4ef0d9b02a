"""Distributed runs on LocalCompute: each node a real bootstrap in its own folder, each
rank a real process on 127.0.0.1. A failure anywhere stops everything, the run is blamed
on the rank that failed, and no process is left behind."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from shared.adapters.local_blob import LocalBlobStore
from shared.adapters.local_compute import LocalCompute
from shared.domain.messages import Envelope, LaunchJob
from shared.handlers.intake_jobs import submit_job
from shared.handlers.registry import handle
from shared.runner.metrics import read_run_metrics
from shared.runner.plan import build_plan
from shared.runner.snapshot import snapshot_dir
from shared.specs.types import JobSpec
from tests.processes import processes_of, wait_for

SCRIPTS = Path(__file__).parent / "runner_scripts"
PYTORCH_2x1 = {"type": "pytorch", "process_count_per_instance": 1}
PYTORCH_2x2 = {"type": "pytorch", "process_count_per_instance": 2}
MPI_2x2 = {"type": "mpi", "process_count_per_instance": 2}




@pytest.fixture
def blobs(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs")
    digest, data = snapshot_dir(SCRIPTS)
    store.put(f"snapshots/{digest}.tar.gz", data)
    store.snapshot = f"snapshots/{digest}.tar.gz"
    return store


@pytest.fixture
def compute(tmp_path, blobs):
    return LocalCompute(tmp_path / "work", blobs=blobs, kill_grace_s=2.0)


@pytest.fixture
def run_id():
    run_id = f"dist-{uuid.uuid4().hex[:8]}"
    yield run_id
    assert wait_for(lambda: not processes_of(run_id), within_s=15), "a process outlived the test"


def submit(compute, blobs, run_id, command, distribution, instance_count=2, **kw):
    compute.submit(build_plan(run_id, command=command, snapshot=blobs.snapshot, inputs={},
                              outputs=[], experiment_name="e", distribution=distribution,
                              instance_count=instance_count, **kw))


def finished(compute, run_id, within_s=60.0):
    return wait_for(lambda: (s := compute.poll(run_id)).state == "exited" and s, within_s)


def log(blobs, run_id, rank) -> str:
    return blobs.get(f"runs/{run_id}/user_logs/std_log_process_{rank}.txt").decode()


def test_every_node_runs_in_its_own_folder_and_all_their_files_are_collected(
        compute, blobs, run_id):
    submit(compute, blobs, run_id, 'echo "rank $RANK at $MASTER_ADDR:$MASTER_PORT in $PWD"; '
           'echo $RANK > outputs/rank_$RANK.txt; echo node $NODE_RANK > outputs/model.txt',
           PYTORCH_2x2)
    state = finished(compute, run_id)
    compute.collect(run_id, blobs)

    assert (state.exit_code, state.failed_rank, state.reason) == (0, None, "")
    lines = [log(blobs, run_id, rank).split() for rank in range(4)]
    assert [line[1] for line in lines] == ["0", "1", "2", "3"]
    addresses = {line[3] for line in lines}
    assert len(addresses) == 1 and addresses.pop().startswith("127.0.0.1:")
    folders = [line[5] for line in lines]
    assert folders[0] == folders[1] != folders[2] == folders[3]
    for rank in range(4):
        assert blobs.get(f"runs/{run_id}/outputs/rank_{rank}.txt") == f"{rank}\n".encode()
    assert blobs.get(f"runs/{run_id}/outputs/model.txt") == b"node 0\n"  # the master's


def test_run_history_gets_rank_0s_metrics_and_the_other_ranks_stores_are_kept_apart(
        compute, blobs, run_id):
    # What MLflow's file store writes for one metric: <experiment>/<run>/metrics/<key>.
    submit(compute, blobs, run_id, 'store="${MLFLOW_TRACKING_URI#file://}/0/run$RANK/metrics"; '
           'mkdir -p "$store" && echo "1 $RANK 0" > "$store/rank"', PYTORCH_2x2)
    finished(compute, run_id)
    compute.collect(run_id, blobs)

    metrics, _ = read_run_metrics(blobs, run_id)
    assert metrics == {"rank": [{"value": 0.0, "step": 0, "timestamp": 1}]}
    assert blobs.exists(f"runs/{run_id}/mlruns_ranks/3/0/run3/metrics/rank")


def test_a_rank_failing_on_one_node_is_reported_while_the_other_node_still_runs(
        compute, blobs, run_id):
    submit(compute, blobs, run_id, 'if [ "$RANK" = 1 ]; then exit 4; fi; exec sleep 60',
           PYTORCH_2x1)

    running = wait_for(lambda: (s := compute.poll(run_id)).failed_rank is not None and s)
    assert (running.state, running.failed_rank, running.exit_code) == ("running", 1, 4)
    compute.cancel(run_id)  # what job-complete does on hearing of it
    state = finished(compute, run_id, within_s=15)

    # The peer stopped by the cancel does not hide the rank that failed.
    assert (state.failed_rank, state.exit_code, state.reason) == (1, 4, "")


def test_mpi_ranks_log_to_their_own_files_and_the_worker_node_starts_nothing(
        compute, blobs, run_id):
    submit(compute, blobs, run_id,
           'echo "rank $OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE to $MLFLOW_TRACKING_URI"',
           MPI_2x2)
    state = finished(compute, run_id)
    compute.collect(run_id, blobs)

    assert (state.exit_code, state.failed_rank) == (0, None)
    stores = []
    for rank in range(4):
        words = log(blobs, run_id, rank).split()
        assert words[:4] == ["rank", str(rank), "of", "4"]
        stores.append(words[-1].rsplit(f"{run_id}/node-0/", 1)[1])
    assert stores == ["mlruns", "mlruns_ranks/1", "mlruns_ranks/2", "mlruns_ranks/3"]
    assert not any((compute.work_root / run_id / "node-1/user_logs").iterdir())


def test_an_mpi_rank_that_fails_is_named_with_its_own_exit_code(compute, blobs, run_id):
    # Rank 2 fails once every rank has started (each has opened its log).
    submit(compute, blobs, run_id,
           'if [ "$OMPI_COMM_WORLD_RANK" = 2 ]; then '
           'for i in $(seq 200); do [ $(ls "$MLCYCLE_NODE_DIR/user_logs" | wc -l) -ge 4 ] '
           '&& break; sleep 0.05; done; exit 5; fi; exec sleep 60', MPI_2x2)
    state = finished(compute, run_id, within_s=30)

    assert (state.failed_rank, state.exit_code, state.reason) == (2, 5, "")


def test_limits_timeout_stops_every_node(compute, blobs, run_id):
    submit(compute, blobs, run_id, "exec sleep 60", PYTORCH_2x1, timeout_s=1.0)
    state = finished(compute, run_id, within_s=20)

    assert state.reason == "timeout"


def test_a_cancel_stops_every_rank_on_every_node(compute, blobs, run_id):
    submit(compute, blobs, run_id, "exec sleep 60", PYTORCH_2x2)
    wait_for(lambda: len(processes_of(run_id)) == 4)

    compute.cancel(run_id)
    state = finished(compute, run_id, within_s=15)

    assert state.reason == "canceled"
    assert compute.running() == []


# --- through job-complete ---------------------------------------------------------------

def distributed_job(code: Path, command: str) -> JobSpec:
    return JobSpec(source=code / "job.yml", command=command, code=code, environment="x",
                   environment_image=None, environment_conda=None, compute="local",
                   instance_count=2, distribution=PYTORCH_2x1, timeout_s=None, inputs={},
                   outputs={}, name=None, display_name=None, experiment_name="exp",
                   description="", tags={})


def test_when_a_node_fails_job_complete_stops_the_others_and_fails_the_run(
        container, tmp_path):
    p = container.ports()
    spec = distributed_job(tmp_path, 'if [ "$RANK" = 1 ]; then exit 4; fi; exec sleep 60')
    run_id = submit_job(spec, key="k", blobs=p["blobs"], registry=p["registry"],
                        bus=p["bus"], clock=p["clock"])["name"]
    started = time.monotonic()
    handle("job-launch", Envelope(LaunchJob(run_id)).to_json(), container.ports())

    def ended():
        while (received := container.bus.receive("job-complete")) is not None:
            handle("job-complete", received.envelope.to_json(), container.ports())
            container.bus.complete(received)
        run = container.registry.get("run", run_id).body
        return run["status"] in ("Completed", "Failed", "Canceled") and run

    run = wait_for(ended, within_s=30)

    assert time.monotonic() - started < 45  # not the 60 s rank 0 would have slept
    assert (run["status"], run["failed_rank"], run["exit_code"]) == ("Failed", 1, 4)
    assert run["error"]["message"] == "the command exited with code 4 (rank 1)"
    assert wait_for(lambda: not processes_of(run_id), within_s=10)
