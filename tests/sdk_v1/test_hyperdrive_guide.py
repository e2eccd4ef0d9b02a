"""SDK v1's hyperparameter-tuning guide ("Tune hyperparameters with HyperDrive"), as its
code is written, against a live local host: a scikit-learn script taking --C and
--max_iter and logging its accuracy with Run.get_context().log, random sampling with a
BanditPolicy, the best run by the primary metric and its model registered. Beside it,
with a script whose metric is known per parameter: a bandit policy cancels the trials
that lag while they run (what Run.get_context().log writes is what the sweep reads of a
running trial), a grid covers its points once, and a canceled HyperDrive run cancels
its trials."""
import re

import pytest
from azureml.core import Environment, Experiment, Run, ScriptRunConfig
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException
from azureml.train.hyperdrive import (BanditPolicy, GridParameterSampling, HyperDriveConfig,
                                      HyperDriveRun, PrimaryMetricGoal,
                                      RandomParameterSampling, choice, loguniform)

from tests.sdk_v1.runs import SRC, polled, waited

pytestmark = pytest.mark.e2e
BANDIT_REASON = re.compile(r"bandit policy at interval (\d+): best score (\S+) is below (\S+), "
                           r"the slack_factor 0\.2 of the best trial's (\S+) \((\S+)\)")


@pytest.fixture(scope="module")
def compute_target(ws):
    cluster_name = "hd-cluster"
    try:
        compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    except ComputeTargetException:
        compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2",
                                                               max_nodes=4)
        compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
    compute_target.wait_for_completion(show_output=False)
    return compute_target


@pytest.fixture(scope="module")
def sklearn_env(ws):
    return Environment.get(ws, name="AzureML-sklearn-1.5")


@pytest.fixture(scope="module")
def experiment(ws):
    return Experiment(ws, name="hyperdrive-iris")


@pytest.fixture(scope="module")
def hyperdrive_run(experiment, compute_target, sklearn_env):
    src = ScriptRunConfig(source_directory=SRC, script="train_iris.py",
                          arguments=["--C", 1.0, "--max_iter", 100],
                          compute_target=compute_target, environment=sklearn_env)
    param_sampling = RandomParameterSampling({
        "--C": loguniform(-7, 2),
        "--max_iter": choice(5, 50, 200),
    }, properties={"seed": 11})  # fixed points, so the test knows they differ
    early_termination_policy = BanditPolicy(slack_factor=0.1, evaluation_interval=1,
                                            delay_evaluation=5)
    hyperdrive_config = HyperDriveConfig(run_config=src,
                                         hyperparameter_sampling=param_sampling,
                                         policy=early_termination_policy,
                                         primary_metric_name="Accuracy",
                                         primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                                         max_total_runs=6,
                                         max_concurrent_runs=3)
    hyperdrive_run = experiment.submit(hyperdrive_config)
    hyperdrive_run.printed = waited(hyperdrive_run)
    return hyperdrive_run


def test_the_guides_sweep_completes_with_every_trial_a_child_run(hyperdrive_run):
    assert isinstance(hyperdrive_run, HyperDriveRun)
    assert hyperdrive_run.get_status() == "Completed"
    children = list(hyperdrive_run.get_children())
    assert len(children) == 6 and {c.get_status() for c in children} == {"Completed"}
    for child in children:  # the streamed log told of each trial and how it ended
        assert re.search(rf"{child.id}: Completed .*Accuracy=", hyperdrive_run.printed)
    assert "Execution Summary" in hyperdrive_run.printed


def test_the_best_run_has_the_highest_accuracy_of_the_completed_children(hyperdrive_run):
    children = list(hyperdrive_run.get_children(status="Completed"))
    accuracy = {c.id: c.get_metrics()["Accuracy"] for c in children}
    best_run = hyperdrive_run.get_best_run_by_primary_metric()
    best_run_metrics = best_run.get_metrics()

    assert len(set(accuracy.values())) > 1  # the space has worse corners
    assert best_run_metrics["Accuracy"] == max(accuracy.values())
    assert best_run.id == hyperdrive_run.get_details()["properties"]["best_child_run_id"]
    ranked = hyperdrive_run.get_children_sorted_by_primary_metric()
    assert ranked[0]["run_id"] == best_run.id
    assert [r["best_primary_metric"] for r in ranked] == sorted(accuracy.values(), reverse=True)
    assert hyperdrive_run.get_metrics() == {c.id: c.get_metrics() for c in children}


def test_the_best_runs_arguments_are_the_hyperparameters_it_was_given(hyperdrive_run):
    best_run = hyperdrive_run.get_best_run_by_primary_metric()
    parameter_values = best_run.get_details()["runDefinition"]["arguments"]
    chosen = hyperdrive_run.get_hyperparameters()[best_run.id]

    assert set(chosen) == {"--C", "--max_iter"}
    assert parameter_values == ["--C", str(chosen["--C"]), "--max_iter", str(chosen["--max_iter"])]
    assert best_run.get_metrics()["Regularization Strength:"] == pytest.approx(chosen["--C"])
    assert best_run.get_metrics()["Max iterations:"] == chosen["--max_iter"]


def test_the_best_runs_model_is_registered(hyperdrive_run):
    best_run = hyperdrive_run.get_best_run_by_primary_metric()
    assert "outputs/model.joblib" in best_run.get_file_names()

    model = best_run.register_model(model_name="sklearn-iris", model_path="outputs/model.joblib")
    assert (model.name, model.version, model.run_id) == ("sklearn-iris", 1, best_run.id)


def test_the_sweep_read_back_is_a_hyperdrive_run_and_its_trials_are_not_the_experiments_runs(
        hyperdrive_run, experiment, ws):
    again = Run.get(ws, hyperdrive_run.id)
    assert isinstance(again, HyperDriveRun)
    assert again.get_best_run_by_primary_metric().id == \
        hyperdrive_run.get_best_run_by_primary_metric().id
    assert set(again.get_hyperparameters()[again.get_best_run_by_primary_metric().id]) == \
        {"--C", "--max_iter"}
    assert [r.id for r in experiment.get_runs()] == [hyperdrive_run.id]
    assert len(list(experiment.get_runs(include_children=True))) == 7


def test_what_a_running_trial_logs_with_run_get_context_is_read_while_it_runs(
        ws, host, compute_target, sklearn_env, tmp_path):
    release = tmp_path / "release"
    src = ScriptRunConfig(source_directory=SRC, script="known_score.py",
                          arguments=["--x", 2, "--y", 0.5, "--release", str(release)],
                          compute_target=compute_target, environment=sklearn_env)
    run = Experiment(ws, "live-metrics").submit(src)
    compute = host.container.compute  # what the sweep handler reads running trials by
    seen = polled(lambda: len(compute.read_metrics(run.id).get("score", [])) == 3
                  and compute.read_metrics(run.id)["score"], 180, "three scores logged")
    assert run.get_status() not in ("Completed", "Failed", "Canceled")  # held by --release
    release.touch()
    waited(run)

    assert [p["value"] for p in seen] == [2.5, 2.5, 2.5]
    assert run.get_metrics()["score"] == [2.5, 2.5, 2.5]


def test_a_bandit_policy_cancels_the_trials_that_lag_while_they_run(
        ws, cli, compute_target, sklearn_env, tmp_path):
    release = tmp_path / "release"
    src = ScriptRunConfig(source_directory=SRC, script="known_score.py",
                          arguments=["--release", str(release)],
                          compute_target=compute_target, environment=sklearn_env)
    config = HyperDriveConfig(run_config=src,
                              hyperparameter_sampling=GridParameterSampling(
                                  {"--x": choice(1, 2, 3, 4)}),
                              policy=BanditPolicy(slack_factor=0.2, evaluation_interval=1,
                                                  delay_evaluation=2),
                              primary_metric_name="score",
                              primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                              max_total_runs=4, max_concurrent_runs=4)
    hyperdrive_run = Experiment(ws, "hyperdrive-bandit").submit(config)
    # Every trial logs its score and then waits to be released: only a policy that acts
    # while trials run can cancel one.
    polled(lambda: len(list(hyperdrive_run.get_children(status="Canceled"))) == 3, 240,
           "three trials canceled")
    release.touch()
    printed = waited(hyperdrive_run)

    by_x = {hp["--x"]: run_id for run_id, hp in hyperdrive_run.get_hyperparameters().items()}
    best_run = hyperdrive_run.get_best_run_by_primary_metric()
    assert best_run.id == by_x[4] and best_run.get_status() == "Completed"
    ranked = hyperdrive_run.get_children_sorted_by_primary_metric
    assert [r["run_id"] for r in ranked()] == [by_x[x] for x in (4, 3, 2, 1)]
    assert [r["best_primary_metric"] for r in ranked(top=2, reverse=True)] == [1, 2]
    for x in (1, 2, 3):
        shown = cli.json("job", "show", "-n", by_x[x])
        assert shown["status"] == "Canceled"
        interval, own, limit, top, leader = BANDIT_REASON.fullmatch(
            shown["canceled_reason"]).groups()
        # Why: its best score is its x; it was judged from interval 2 on; the trial it
        # was measured against scored more than 1.2 times as much.
        assert float(own) == x and int(interval) >= 2
        assert float(top) > 1.2 * x and leader in by_x.values()
        assert f"{by_x[x]}: Canceled" in printed and shown["canceled_reason"] in printed


def test_a_grid_covers_each_of_its_points_exactly_once(ws, compute_target, sklearn_env):
    src = ScriptRunConfig(source_directory=SRC, script="known_score.py",
                          compute_target=compute_target, environment=sklearn_env)
    config = HyperDriveConfig(run_config=src,
                              hyperparameter_sampling=GridParameterSampling(
                                  {"--x": choice(1, 2, 3), "y": choice(0, 0.5)}),
                              primary_metric_name="score",
                              primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                              max_total_runs=10, max_concurrent_runs=3)
    hyperdrive_run = Experiment(ws, "hyperdrive-grid").submit(config)
    waited(hyperdrive_run)

    children = list(hyperdrive_run.get_children())
    points = hyperdrive_run.get_hyperparameters()
    assert len(children) == 6 and {c.get_status() for c in children} == {"Completed"}
    assert sorted((p["--x"], p["y"]) for p in points.values()) == \
        [(1, 0), (1, 0.5), (2, 0), (2, 0.5), (3, 0), (3, 0.5)]
    for child in children:
        point = points[child.id]
        assert child.get_metrics()["score"] == [point["--x"] + point["y"]] * 3
        assert child.get_details()["runDefinition"]["arguments"] == \
            ["--x", str(point["--x"]), "--y", str(point["y"])]
    assert points[hyperdrive_run.get_best_run_by_primary_metric().id] == {"--x": 3, "y": 0.5}


def test_canceling_a_hyperdrive_run_cancels_its_running_trials(ws, compute_target,
                                                               sklearn_env, tmp_path):
    src = ScriptRunConfig(source_directory=SRC, script="known_score.py",
                          arguments=["--release", str(tmp_path / "never")],
                          compute_target=compute_target, environment=sklearn_env)
    config = HyperDriveConfig(run_config=src,
                              hyperparameter_sampling=GridParameterSampling(
                                  {"--x": choice(1, 2, 3, 4)}),
                              primary_metric_name="score", primary_metric_goal="maximize",
                              max_total_runs=4, max_concurrent_runs=2)
    hyperdrive_run = Experiment(ws, "hyperdrive-cancel").submit(config)
    # Two trials run (the other two wait for room) and have logged their score.
    polled(lambda: len(hyperdrive_run.get_children_sorted_by_primary_metric(
        discard_no_metric=True)) == 2, 180, "two trials running with a score")

    assert hyperdrive_run.cancel() is True
    waited(hyperdrive_run, raise_on_error=False)
    assert hyperdrive_run.get_status() == "Canceled"
    children = list(hyperdrive_run.get_children())
    assert len(children) == 2 and {c.get_status() for c in children} == {"Canceled"}
    # Both logged their score before they were canceled: v1 counts canceled trials
    # unless told not to.
    points = hyperdrive_run.get_hyperparameters()
    assert points[hyperdrive_run.get_best_run_by_primary_metric().id] == {"--x": 2}
    assert hyperdrive_run.get_best_run_by_primary_metric(include_canceled=False) is None
