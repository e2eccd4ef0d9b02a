"""A compute pool through the CLI against a real local host: it never runs more nodes
than max_instances, queues what does not fit in submission order, and says so."""
import time

import pytest

pytestmark = pytest.mark.e2e

JOB = """$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: ./src
command: python gate.py {gates}
environment: azureml:AzureML-sklearn-1.0@latest
compute: azureml:pair
"""
# Each job waits until the test opens its gate, so which jobs are running is decided
# by the test, never by how long a job takes. The wait is bounded: a forgotten gate
# cannot hang the suite.
SCRIPT = """import os, pathlib, sys, time
gate = pathlib.Path(sys.argv[1]) / os.environ["MLCYCLE_RUN_ID"]
print("waiting for", gate, flush=True)
for _ in range(1200):
    if gate.exists():
        break
    time.sleep(0.1)
print("released", flush=True)
"""


@pytest.fixture
def gates(tmp_path):
    folder = tmp_path / "gates"
    folder.mkdir()
    return folder


@pytest.fixture
def gated_job(tmp_path, gates):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "gate.py").write_text(SCRIPT)
    (tmp_path / "job.yml").write_text(JOB.format(gates=gates))
    return tmp_path / "job.yml"


def status(cli, run_id) -> str:
    return cli.json("job", "show", "-n", run_id)["status"]


def wait_status(cli, run_id, wanted, timeout=90) -> None:
    deadline = time.monotonic() + timeout
    while (now := status(cli, run_id)) != wanted:
        assert time.monotonic() < deadline, f"{run_id} stayed {now}, never {wanted}"
        time.sleep(0.2)


def nodes(cli) -> tuple[int, int, int]:
    pool = cli.json("compute", "show", "-n", "pair")
    return pool["current_nodes"], pool["target_nodes"], pool["idle_nodes"]


def test_a_pool_of_two_runs_two_jobs_and_queues_the_third_until_one_finishes(
        cli, gated_job, gates):
    cli.json("compute", "create", "--name", "pair", "--type", "amlcompute",
             "--min-instances", "0", "--max-instances", "2",
             "--idle-time-before-scale-down", "600")
    first, second, third = (cli.json("job", "create", "-f", gated_job)["name"]
                            for _ in range(3))
    wait_status(cli, first, "Running")
    wait_status(cli, second, "Running")
    # The third is Queued once compute-scale has handled its own submission, which
    # nothing orders before the second's start on a busy machine: wait for it, bounded.
    wait_status(cli, third, "Queued")
    assert nodes(cli) == (2, 2, 0)

    (gates / first).touch()
    wait_status(cli, third, "Running")
    assert (status(cli, first), status(cli, second)) == ("Completed", "Running")
    assert nodes(cli) == (2, 2, 0)

    (gates / second).touch()
    (gates / third).touch()
    wait_status(cli, second, "Completed")
    wait_status(cli, third, "Completed")
    shown = cli.json("job", "show", "-n", third)
    waited = [s["status"] for s in shown["status_history"]]
    assert waited[:3] == ["NotStarted", "Queued", "Preparing"]
    ended = cli.json("job", "show", "-n", first)["end_time"]
    assert shown["start_time"] >= ended  # it started once the first had freed its node

    pool = cli.json("compute", "show", "-n", "pair")
    assert nodes(cli) == (2, 2, 2)  # idle, kept for idle_time_before_scale_down
    assert pool["idle_since"] is not None
    history = pool["resize_history"]
    assert history[-1]["to"] == 2  # grown as the jobs came, one step or two
    assert all(r["to"] <= 2 and r["reason"].startswith("scale up") for r in history)
    code, table, _ = cli("compute", "show", "-n", "pair", "-o", "table")
    assert code == 0 and "IdleNodes" in table


def test_a_job_larger_than_its_pool_is_refused_with_the_reason(cli, gated_job):
    cli.json("compute", "create", "--name", "pair", "--type", "amlcompute",
             "--max-instances", "2")
    code, _, err = cli("job", "create", "-f", gated_job, "--set", "resources.instance_count=3")
    assert code == 1
    assert "resources.instance_count 3 exceeds compute 'pair' max_instances 2" in err
