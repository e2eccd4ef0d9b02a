"""A sweep as an Azure ML notebook submits one: `command(...)` called with search space
parameters, `.sweep(...)`, `ml_client.jobs.create_or_update`; the best trial read from
`properties["best_child_run_id"]` and the trials from the run's children."""
from pathlib import Path

import pytest
from azure.ai.ml import command
from azure.ai.ml.sweep import Choice, LogUniform

from tests.sdk.conftest import TERMINAL, wait_for

pytestmark = pytest.mark.e2e
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def swept(ml_client):
    job = command(code=str(HERE / "sweep"),
                  command="python train.py --C ${{inputs.C}} --solver ${{inputs.solver}} "
                          "--max-iter ${{inputs.max_iter}}",
                  inputs={"C": 1.0, "solver": "lbfgs", "max_iter": 200},
                  environment="AzureML-sklearn-1.5@latest", experiment_name="sdk-sweep")
    sweep = job(C=LogUniform(-4, 2), solver=Choice(["lbfgs", "newton-cg"])).sweep(
        primary_metric="accuracy", goal="maximize", sampling_algorithm="random")
    sweep.set_limits(max_total_trials=4, max_concurrent_trials=2, timeout=600)
    submitted = ml_client.jobs.create_or_update(sweep)
    wait_for(lambda: ml_client.jobs.get(submitted.name).status in TERMINAL)
    return submitted, ml_client.jobs.get(submitted.name)


def test_the_sdk_submits_a_sweep_and_reads_it_back_as_one(swept):
    submitted, done = swept
    assert submitted.type == "sweep" and done.type == "sweep"
    assert done.status == "Completed"
    assert done.objective.primary_metric == "accuracy" and done.limits.max_total_trials == 4
    assert set(done.search_space) == {"C", "solver"}


def test_the_best_child_is_the_trial_with_the_highest_accuracy(swept, ml_client, sdk_host):
    submitted, done = swept
    sweep = sdk_host.container.registry.get("run", submitted.name).body
    trials = {t["name"]: t for t in sweep["trials"]}
    best = done.properties["best_child_run_id"]
    assert trials[best]["metric"] == max(t["metric"] for t in trials.values())
    children = list(ml_client.jobs.list(parent_job_name=submitted.name))
    assert sorted(c.name for c in children) == sorted(trials)
    assert all(c.status == "Completed" for c in children)


def test_each_trial_ran_the_command_with_its_own_hyperparameters(swept, sdk_host):
    submitted, _ = swept
    registry, blobs = sdk_host.container.registry, sdk_host.container.blobs
    for trial in registry.get("run", submitted.name).body["trials"]:
        params = trial["hyperparameters"]
        assert params["solver"] in ("lbfgs", "newton-cg") and 0.018 < params["C"] < 7.39
        log = blobs.get(f"runs/{trial['name']}/user_logs/std_log_process_0.txt").decode()
        assert f"C={params['C']} solver={params['solver']}" in log
