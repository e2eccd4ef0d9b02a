"""What a HyperDriveConfig becomes, without a host: the Azure ML v2 sweep job it stands
for, loaded back with mlcycle's own spec loader (azure-ai-ml's official schema), so every
generated spec is one `mlcycle job create` would take; v1's parameter names become script
arguments as v1 passes them, and what v1 refuses is refused when the config is made."""
from contextlib import ExitStack

import pytest
import yaml
from azureml.core import Environment, ScriptRunConfig
from azureml.data import FileDataset
from azureml.train.estimator import Estimator
from azureml.train.hyperdrive import (BanditPolicy, BayesianParameterSampling,
                                      GridParameterSampling, HyperDriveConfig,
                                      HyperDriveConfigException,
                                      HyperDriveScenarioNotSupportedException,
                                      MedianStoppingPolicy, NoTerminationPolicy,
                                      PrimaryMetricGoal, RandomParameterSampling,
                                      TruncationSelectionPolicy, choice, lognormal,
                                      loguniform, normal, qloguniform, qnormal, quniform,
                                      randint, uniform)

from shared.domain.errors import InvalidSpec
from shared.domain.sweeps import Parameter, Policy
from shared.specs.load import load_spec
from tests.sdk_v1.runs import SRC

CURATED = Environment("AzureML-sklearn-1.5")
CURATED._curated = True


def loaded(config, tmp_path, tags=None):
    """(the v2 spec dict, the SweepSpec mlcycle loads from it)."""
    with ExitStack() as stack:
        spec = config._spec("tune", tags, stack)
        (tmp_path / "sweep.yml").write_text(yaml.safe_dump(spec))
        return spec, load_spec(tmp_path / "sweep.yml", kind="job")


def iris(arguments=()):
    return ScriptRunConfig(source_directory=SRC, script="train_iris.py",
                           arguments=list(arguments), compute_target="hd-cluster",
                           environment=CURATED, max_run_duration_seconds=600)


def test_a_random_sweep_with_a_bandit_policy_is_a_sweep_job_of_the_script(tmp_path):
    config = HyperDriveConfig(
        run_config=iris(), policy=BanditPolicy(slack_factor=0.1, evaluation_interval=2,
                                               delay_evaluation=3),
        hyperparameter_sampling=RandomParameterSampling(
            {"--C": loguniform(-3, 1), "max_iter": choice(20, 200)}, properties={"seed": 7}),
        primary_metric_name="Accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=6, max_concurrent_runs=3, max_duration_minutes=30)
    spec, sweep = loaded(config, tmp_path, tags={"guide": "hyperdrive"})

    assert sweep.trial.command == ("python train_iris.py --C ${{search_space.C}} "
                                   "--max_iter ${{search_space.max_iter}}")
    assert (sweep.trial.code, sweep.trial.compute) == (SRC, "hd-cluster")
    assert sweep.experiment_name == "tune" and sweep.tags["guide"] == "hyperdrive"
    definition = sweep.definition
    assert dict(definition.search_space) == {
        "C": Parameter("loguniform", min_value=-3, max_value=1),
        "max_iter": Parameter("choice", values=(20, 200))}
    assert (definition.sampling.algorithm, definition.sampling.seed) == ("random", 7)
    assert (definition.objective.primary_metric, definition.objective.goal) == \
        ("Accuracy", "maximize")
    limits = definition.limits
    assert (limits.max_total_trials, limits.max_concurrent_trials) == (6, 3)
    assert (limits.timeout_s, limits.trial_timeout_s) == (1800, 600)
    assert definition.early_termination == Policy("bandit", 2, 3, slack_factor=0.1)


def test_an_argument_the_script_already_has_takes_the_swept_value_in_its_place(tmp_path):
    config = HyperDriveConfig(
        run_config=iris(["--C", 1.0, "--max_iter=50", "--verbose"]),
        hyperparameter_sampling=GridParameterSampling({"--C": choice(0.5, 1, 2),
                                                       "--max_iter": choice(10, 100),
                                                       "verbose": choice(0, 1)}),
        primary_metric_name="Accuracy", primary_metric_goal="maximize", max_total_runs=20)
    spec, sweep = loaded(config, tmp_path)

    assert sweep.trial.command == ("python train_iris.py --C ${{search_space.C}} "
                                   "--max_iter=${{search_space.max_iter}} "
                                   "--verbose ${{search_space.verbose}}")
    assert sweep.definition.limits.max_total_trials == 12  # the grid's size
    assert sweep.definition.sampling.algorithm == "grid"


def test_an_estimators_script_params_take_the_swept_values(tmp_path):
    with pytest.warns(FutureWarning):
        estimator = Estimator(source_directory=SRC, entry_script="train_iris.py",
                              script_params={"--max_iter": 100}, compute_target="hd-cluster")
    config = HyperDriveConfig(
        estimator=estimator, hyperparameter_sampling=RandomParameterSampling(
            {"--max_iter": randint(300), "--learning-rate": uniform(0.1, 0.2)}),
        primary_metric_name="loss", primary_metric_goal=PrimaryMetricGoal.MINIMIZE,
        max_total_runs=2, policy=MedianStoppingPolicy())
    spec, sweep = loaded(config, tmp_path)

    assert sweep.trial.command.endswith(
        "train_iris.py --max_iter ${{search_space.max_iter}} "
        "--learning-rate ${{search_space.learning_rate}}")
    assert dict(sweep.definition.search_space)["learning_rate"] == \
        Parameter("uniform", min_value=0.1, max_value=0.2)
    assert sweep.definition.objective.goal == "minimize"
    assert sweep.definition.early_termination == Policy("median_stopping", 1, 5)
    assert sweep.definition.limits.timeout_s == 10080 * 60  # v1's default week


def test_a_named_dataset_is_an_input_of_the_sweep_that_every_trial_mounts(tmp_path):
    digits = FileDataset(name="digits", version="3").as_named_input("digits").as_mount()
    config = HyperDriveConfig(
        run_config=iris(["--data-folder", digits]), primary_metric_name="Accuracy",
        hyperparameter_sampling=RandomParameterSampling({"--C": uniform(0.1, 1)}),
        primary_metric_goal="maximize", max_total_runs=2)
    spec, sweep = loaded(config, tmp_path)

    assert spec["inputs"] == {"digits": {"type": "uri_folder", "path": "azureml:digits:3",
                                         "mode": "ro_mount"}}
    assert sweep.trial.command == ("python train_iris.py --data-folder ${{inputs.digits}} "
                                   "--C ${{search_space.C}}")
    assert set(sweep.trial.inputs) == {"digits"}


@pytest.mark.parametrize("expression, parameter", [
    (randint(5), Parameter("randint", upper=5)),
    (quniform(0, 10, 2), Parameter("quniform", min_value=0, max_value=10, q=2)),
    (qloguniform(0, 2, 1), Parameter("qloguniform", min_value=0, max_value=2, q=1)),
    (normal(10, 3), Parameter("normal", mu=10, sigma=3)),
    (qnormal(10, 3, 1), Parameter("qnormal", mu=10, sigma=3, q=1)),
    (lognormal(0, 1), Parameter("lognormal", mu=0, sigma=1)),
    (choice(range(3)), Parameter("choice", values=(0, 1, 2))),
    (choice(["relu", "tanh"]), Parameter("choice", values=("relu", "tanh"))),
])
def test_each_parameter_expression_is_its_search_space_entry(expression, parameter, tmp_path):
    config = HyperDriveConfig(run_config=iris(), primary_metric_name="Accuracy",
                              hyperparameter_sampling=RandomParameterSampling({"p": expression}),
                              primary_metric_goal="MAXIMIZE", max_total_runs=1)
    spec, sweep = loaded(config, tmp_path)
    assert dict(sweep.definition.search_space) == {"p": parameter}


def test_truncation_selection_and_no_termination_are_their_policies(tmp_path):
    def policy_of(policy):
        config = HyperDriveConfig(
            run_config=iris(), hyperparameter_sampling=RandomParameterSampling(
                {"--C": uniform(0.1, 1)}), primary_metric_name="Accuracy",
            primary_metric_goal="maximize", max_total_runs=2, policy=policy)
        return loaded(config, tmp_path)[1].definition.early_termination

    assert policy_of(TruncationSelectionPolicy(20, delay_evaluation=4)) == \
        Policy("truncation_selection", 1, 4, truncation_percentage=20)
    assert policy_of(NoTerminationPolicy()) is None
    assert policy_of(BanditPolicy(slack_amount=0.2)) == Policy("bandit", 1, 0,
                                                               slack_amount=0.2)


def test_bayesian_sampling_is_a_bayesian_sweep_and_takes_no_policy(tmp_path):
    space = {"--C": uniform(0.1, 2), "--max_iter": choice(50, 100)}
    config = HyperDriveConfig(run_config=iris(), primary_metric_name="Accuracy",
                              hyperparameter_sampling=BayesianParameterSampling(space),
                              primary_metric_goal="maximize", max_total_runs=4)
    assert loaded(config, tmp_path)[1].definition.sampling.algorithm == "bayesian"
    normal_space = BayesianParameterSampling({"--C": normal(1, 0.2)})
    with pytest.raises(InvalidSpec, match="bayesian sampling takes only choice, uniform"):
        loaded(HyperDriveConfig(run_config=iris(), primary_metric_name="Accuracy",
                                hyperparameter_sampling=normal_space,
                                primary_metric_goal="maximize", max_total_runs=4), tmp_path)
    with pytest.raises(HyperDriveScenarioNotSupportedException,
                       match="No early termination policy is supported with Bayesian"):
        HyperDriveConfig(run_config=iris(), primary_metric_name="Accuracy",
                         hyperparameter_sampling=BayesianParameterSampling(space),
                         primary_metric_goal="maximize", max_total_runs=4,
                         policy=BanditPolicy(slack_factor=0.1))


@pytest.mark.parametrize("make, message", [
    (lambda: GridParameterSampling({"--C": uniform(0, 1)}), "takes only choice parameters"),
    (lambda: RandomParameterSampling({"--C": [0.1, 1]}), "is not a parameter expression"),
    (lambda: RandomParameterSampling({}), "needs a parameter_space"),
    (lambda: RandomParameterSampling({"--lr": uniform(0, 1), "lr": uniform(0, 1)}),
     "both named 'lr'"),
    (lambda: BanditPolicy(), "slack_factor or slack_amount"),
    (lambda: BanditPolicy(slack_factor=0.1, slack_amount=0.1), "slack_factor or slack_amount"),
    (lambda: TruncationSelectionPolicy(100), "from 1 to 99"),
    (lambda: TruncationSelectionPolicy(10, exclude_finished_jobs=True),
     "exclude_finished_jobs is not offered"),
    (lambda: MedianStoppingPolicy(evaluation_interval=0), "evaluation_interval must be"),
    (lambda: HyperDriveConfig(RandomParameterSampling({"a": uniform(0, 1)}), "m", "maximize",
                              4), "a run_config"),
    (lambda: HyperDriveConfig(RandomParameterSampling({"a": uniform(0, 1)}), "m", "maximize",
                              0, run_config=iris()), "max_total_runs must be"),
    (lambda: HyperDriveConfig(RandomParameterSampling({"a": uniform(0, 1)}), "m", "upwards",
                              4, run_config=iris()), "is not PrimaryMetricGoal"),
])
def test_what_cannot_be_swept_is_refused_when_it_is_made(make, message):
    with pytest.raises(HyperDriveConfigException, match=message):
        make()
