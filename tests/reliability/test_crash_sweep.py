"""A host SIGKILLed mid-sweep, and started again, finishes the sweep with exactly
max_total_trials trials, each run once: a trial planned but not yet created is
created by the next host, a trial running when the host died is adopted, and an
AdvanceSweep redelivered after the crash starts nothing twice."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.processes import wait_for
from tests.reliability.crash_host import (TERMINAL, Host, bus_rows, end_orphans,
                                          leftover_processes, records)
from tests.reliability.ledger import record

pytestmark = pytest.mark.e2e
SOURCE = Path(__file__).parent / "crash_sweep"
CHECKED = "trials (runs and starts), sweep end, dead letters, orphan processes"
TRIALS = 4


@pytest.fixture
def up(tmp_path):
    host = Host(tmp_path)
    yield host
    host.stop()
    end_orphans(leftover_processes(host.home, "-"))


def submit(host: Host, trace: Path) -> str:
    """A grid sweep of four trials, two at a time; the one with x 1 holds until released."""
    folder = host.root / "sweep"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "trial.py").write_text((SOURCE / "trial.py").read_text())
    trace.mkdir()
    (folder / "sweep.yml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n"
        "type: sweep\n"
        "trial:\n"
        f"  command: python trial.py --x ${{{{search_space.x}}}} --trace {trace}\n"
        "  code: src\n"
        "  environment: azureml:AzureML-sklearn-1.5@latest\n"
        "sampling_algorithm: grid\n"
        "search_space:\n  x: {type: choice, values: [1, 2, 3, 4]}\n"
        "objective: {goal: maximize, primary_metric: score}\n"
        f"limits: {{max_total_trials: {TRIALS}, max_concurrent_trials: 2}}\n")
    return host.cli("job", "create", "-f", folder / "sweep.yml")["name"]


def finish(host: Host, sweep_id: str, trace: Path) -> dict:
    """Release the held trial, wait for the sweep to end, stop the host, and audit."""
    (trace / "release").touch()
    wait_for(lambda: host.get(f"jobs/{sweep_id}")["status"] in TERMINAL, 240)
    host.stop()
    sweep = next(r for r in records(host.data, "run") if r["name"] == sweep_id)
    trials = [r for r in records(host.data, "run") if r.get("parent") == sweep_id]
    starts = Counter(line.split()[0] for line in (trace / "starts.txt").read_text().splitlines())
    found = {
        "status": sweep["status"], "table": len(sweep["trials"]), "runs": len(trials),
        "completed": sum(r["status"] == "Completed" for r in trials),
        "starts": dict(starts),
        "ends": [s["status"] for s in sweep["status_history"] if s["status"] in TERMINAL],
        "dead_letters": bus_rows(host.data, "SELECT queue, type, reason FROM dead_letters"),
        "orphans": leftover_processes(host.home, "-"),
    }
    found["lost"] = (abs(TRIALS - len(trials)) + abs(TRIALS - found["completed"])
                     + sum(abs(n - 1) for n in starts.values()) + TRIALS - len(starts)
                     + abs(len(found["ends"]) - 1) + len(found["dead_letters"])
                     + len(found["orphans"]))
    return found


def assert_exactly_once(found: dict) -> None:
    shown = json.dumps(found, indent=1)
    assert found["status"] == "Completed" and found["ends"] == ["Completed"], shown
    assert found["runs"] == found["table"] == found["completed"] == TRIALS, shown
    assert found["starts"] == {"1": 1, "2": 1, "3": 1, "4": 1}, shown
    assert found["lost"] == 0, shown


def test_a_trial_planned_but_not_created_when_the_host_dies_is_created_once(up, tmp_path):
    # Trial 0 (x 1) holds; trial 1 ends, and the sweep plans trial 2: the host dies with
    # that plan stored and trial 2's run not yet created, trial 0 still training.
    up.start(pause_at="sweep:planned-3")
    trace = tmp_path / "trace"
    sweep_id = submit(up, trace)
    up.paused()
    assert [r["name"] for r in records(up.data, "run") if r.get("parent")] == \
        [f"{sweep_id}_0", f"{sweep_id}_1"]
    up.kill()
    up.start()
    found = finish(up, sweep_id, trace)
    record("crash", "SIGKILL of the host between planning a sweep's trial and creating its "
           "run, another trial training", injected=1, lost=found["lost"], checked=CHECKED)
    assert_exactly_once(found)


def test_an_advance_redelivered_after_the_host_dies_starts_no_trial_twice(up, tmp_path):
    # The sweep's first trials are created, but the host dies before the bus hears so.
    up.start(pause_at="AdvanceSweep:handled")
    trace = tmp_path / "trace"
    sweep_id = submit(up, trace)
    up.paused()
    up.kill()
    up.start()
    found = finish(up, sweep_id, trace)
    record("crash", "SIGKILL of the host after a sweep started its trials, before the "
           "message was settled", injected=1, lost=found["lost"], checked=CHECKED)
    assert_exactly_once(found)
