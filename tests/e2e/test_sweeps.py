"""Sweep jobs on a real local host through the CLI: trials are real training runs on
the pool, a bandit policy stops the trials that lag while they run, a grid covers its
points once, and Azure ML's own hello-sweep example runs as written."""
from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.processes import wait_for

pytestmark = pytest.mark.e2e
HERE = Path(__file__).parent
EXAMPLES = HERE.parent / "corpus" / "azureml-examples" / "cli" / "jobs" / "basics"
TERMINAL = ("Completed", "Failed", "Canceled")


def sweep_spec(folder: Path, body: str) -> Path:
    shutil.copytree(HERE / "sweeps", folder / "src")
    spec = folder / "sweep.yml"
    spec.write_text("$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n"
                    "type: sweep\n" + body)
    return spec


def ended(cli, name: str, within_s: float = 300) -> dict:
    return wait_for(lambda: (run := cli.json("job", "show", "-n", name))["status"] in TERMINAL
                    and run, within_s, f"sweep {name} to end")


def most_at_once(runs: list[dict]) -> int:
    """The most trials that existed unfinished at one moment, from their records."""
    moments = sorted([(r["creation_context"]["created_at"], 1) for r in runs]
                     + [(r["end_time"], -1) for r in runs], key=lambda m: (m[0], m[1]))
    return max(itertools.accumulate(change for _, change in moments))


@pytest.fixture
def pool(cli):
    """A pool of four nodes: room for every trial a test runs at once."""
    cli.json("compute", "create", "--name", "sweep-pool", "--type", "amlcompute",
             "--max-instances", "4")
    return "sweep-pool"


def test_twelve_trials_three_at_a_time_find_the_best_of_those_that_completed(cli, pool, tmp_path):
    spec = sweep_spec(tmp_path, f"""trial:
  command: python iris_svm.py --C ${{{{search_space.C}}}} --kernel ${{{{search_space.kernel}}}}
  code: src
  environment: azureml:AzureML-sklearn-1.5@latest
compute: azureml:{pool}
sampling_algorithm: {{type: random, seed: 3}}
search_space:
  C: {{type: loguniform, min_value: -7, max_value: 2}}
  kernel: {{type: choice, values: [linear, rbf, poly]}}
objective: {{goal: maximize, primary_metric: accuracy}}
limits: {{max_total_trials: 12, max_concurrent_trials: 3}}
""")
    name = cli.json("job", "create", "-f", spec)["name"]
    sweep = ended(cli, name)
    assert sweep["status"] == "Completed", sweep.get("error")
    trials = sweep["trials"]
    runs = [cli.json("job", "show", "-n", t["name"]) for t in trials]
    assert [t["name"] for t in trials] == [f"{name}_{i}" for i in range(12)]
    assert {r["status"] for r in runs} == {"Completed"}
    assert all(r["parent"] == name and r["compute"] == pool for r in runs)
    for trial, run in zip(trials, runs):
        assert trial["metric"] == run["metrics"]["accuracy"]
        assert run["hyperparameters"] == trial["hyperparameters"]
        assert f"--C {trial['hyperparameters']['C']} " in run["command"]
    best = max(r["metrics"]["accuracy"] for r in runs)
    assert len({r["metrics"]["accuracy"] for r in runs}) > 1  # the space has worse corners
    chosen = cli.json("job", "show", "-n", sweep["best_child_run_id"])
    assert chosen["metrics"]["accuracy"] == best and sweep["metrics"] == {"accuracy": best}
    assert most_at_once(runs) == 3
    _, table, _ = cli("job", "show", "-n", name, "-o", "table")
    assert f"Trials (best: {sweep['best_child_run_id']})" in table
    assert sum(line.startswith(f"{name}_") for line in table.splitlines()) == 12


BANDIT_REASON = re.compile(r"bandit policy at interval (\d+): best score (\S+) is below (\S+), "
                           r"the slack_factor 0\.2 of the best trial's (\S+) \((\S+)\)")


def test_a_bandit_policy_cancels_the_trials_that_lag_while_they_run(cli, pool, tmp_path):
    release = tmp_path / "release"
    spec = sweep_spec(tmp_path, f"""trial:
  command: python known_score.py --x ${{{{search_space.x}}}} --release ${{{{inputs.release}}}}
  code: src
  environment: azureml:AzureML-sklearn-1.5@latest
inputs:
  release: {release}
compute: azureml:{pool}
sampling_algorithm: grid
search_space:
  x: {{type: choice, values: [1, 2, 3, 4]}}
objective: {{goal: maximize, primary_metric: score}}
limits: {{max_total_trials: 4, max_concurrent_trials: 4, trial_timeout: 600}}
early_termination: {{type: bandit, slack_factor: 0.2, evaluation_interval: 1, delay_evaluation: 2}}
""")
    name = cli.json("job", "create", "-f", spec)["name"]
    # Every trial logs its score and then waits to be released: only a policy that acts
    # while trials run can cancel one.
    wait_for(lambda: sum(t["status"] == "Canceled" for t in
                         cli.json("job", "show", "-n", name)["trials"]) == 3, 180,
             "three trials canceled")
    release.touch()
    sweep = ended(cli, name)
    by_x = {t["hyperparameters"]["x"]: t for t in sweep["trials"]}
    assert sweep["status"] == "Completed" and by_x[4]["status"] == "Completed"
    assert sweep["best_child_run_id"] == by_x[4]["name"]
    for x in (1, 2, 3):
        run = cli.json("job", "show", "-n", by_x[x]["name"])
        assert run["status"] == "Canceled" and run["canceled_reason"] == by_x[x]["reason"]
        interval, own, limit, top, leader = BANDIT_REASON.fullmatch(run["canceled_reason"]).groups()
        # Why: its best score is its x; it was judged from interval 2 on; the trial it
        # was measured against scored more than 1.2 times as much.
        assert float(own) == x and int(interval) >= 2
        assert float(top) > 1.2 * x and float(limit) == pytest.approx(float(top) / 1.2, rel=1e-5)
        assert leader in {t["name"] for t in sweep["trials"]}
        print(f"x={x}: {run['canceled_reason']}")


def test_a_grid_sweep_covers_each_point_of_its_grid_exactly_once(cli, pool, tmp_path):
    spec = sweep_spec(tmp_path, f"""trial:
  command: python known_score.py --x ${{{{search_space.x}}}} --y ${{{{search_space.y}}}}
  code: src
  environment: azureml:AzureML-sklearn-1.5@latest
compute: azureml:{pool}
sampling_algorithm: grid
search_space:
  x: {{type: choice, values: [1, 2, 3]}}
  y: {{type: choice, values: [0, 0.5]}}
objective: {{goal: maximize, primary_metric: score}}
limits: {{max_total_trials: 10, max_concurrent_trials: 3}}
""")
    name = cli.json("job", "create", "-f", spec)["name"]
    sweep = ended(cli, name)
    points = [(t["hyperparameters"]["x"], t["hyperparameters"]["y"]) for t in sweep["trials"]]
    assert sorted(points) == sorted(itertools.product([1, 2, 3], [0, 0.5]))
    assert sweep["status"] == "Completed" and len(sweep["trials"]) == 6
    assert [t["metric"] for t in sweep["trials"]] == [x + y for x, y in points]
    assert json.dumps(cli.json("job", "show", "-n", sweep["best_child_run_id"])["hyperparameters"]) \
        == json.dumps({"x": 3, "y": 0.5})
    children = cli.json("job", "list", "--parent-job-name", name)
    assert sorted(c["name"] for c in children) == sorted(t["name"] for t in sweep["trials"])


def test_azure_mls_hello_sweep_example_runs_as_written(cli, tmp_path):
    shutil.copy(EXAMPLES / "hello-sweep.yml", tmp_path)
    shutil.copytree(EXAMPLES / "src", tmp_path / "src")
    name = cli.json("job", "create", "-f", tmp_path / "hello-sweep.yml")["name"]
    sweep = ended(cli, name)
    assert sweep["status"] == "Completed" and len(sweep["trials"]) == 4
    for trial in sweep["trials"]:
        assert trial["hyperparameters"]["B"] in ("hello", "world", "hello_world")
        assert 0.1 <= trial["hyperparameters"]["C"] <= 1.0
    lowest = min(t["metric"] for t in sweep["trials"])  # its objective is to minimize
    assert sweep["metrics"] == {"random_metric": lowest}
    assert sweep["display_name"] == "hello-sweep-example"
