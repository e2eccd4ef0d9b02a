"""Sweep job specs: Azure ML's own examples convert, the trial is checked as a command
job, and what cannot be swept is refused naming the field."""
from __future__ import annotations

from pathlib import Path

import pytest

from shared.domain.sweeps import Objective, Parameter, Policy, Sampling, SweepLimits
from shared.specs import SweepSpec, load_spec, referenced_paths
from tests.unit.spec_files import refusal, write

EXAMPLES = Path(__file__).parents[1] / "corpus" / "azureml-examples" / "cli" / "jobs"
SWEEP = """$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
trial:
  command: python train.py --c ${{search_space.C}} --k ${{inputs.kernel}} --n ${{inputs.n}}
  code: src
  environment: azureml:AzureML-sklearn-1.5@latest
inputs:
  n: 3
compute: azureml:cpu-cluster
sampling_algorithm: {type: random, seed: 7, rule: sobol}
search_space:
  C: {type: loguniform, min_value: -3, max_value: 1}
  kernel: {type: choice, values: [rbf, linear]}
objective: {goal: maximize, primary_metric: accuracy}
limits: {max_total_trials: 12, max_concurrent_trials: 3, timeout: 600, trial_timeout: 20}
"""
BANDIT = "early_termination={type: bandit, slack_factor: 0.1, evaluation_interval: 2, delay_evaluation: 1}"


@pytest.fixture
def sweep(tmp_path):
    write(tmp_path, "src/train.py", "print('hi')\n")
    return write(tmp_path, "sweep.yml", SWEEP)


class TestSweepJob:
    def test_azure_mls_hello_sweep_converts_with_its_trial_and_search_space(self):
        spec = load_spec(EXAMPLES / "basics" / "hello-sweep.yml")
        assert isinstance(spec, SweepSpec)
        d = spec.definition
        assert d.search_space == (("B", Parameter("choice", values=("hello", "world", "hello_world"))),
                                  ("C", Parameter("uniform", min_value=0.1, max_value=1.0)))
        assert d.sampling == Sampling("random", None)  # the intake chooses a seed
        assert d.objective == Objective("random_metric", "minimize")
        assert d.limits == SweepLimits(4, 2, 3600.0, None)
        assert spec.trial.command.endswith("--B ${{search_space.B}} --C ${{search_space.C}}")
        assert spec.trial.inputs["A"].value == 0.5
        assert spec.trial.code == EXAMPLES / "basics" / "src"
        assert spec.experiment_name == "hello-sweep-example"
        assert referenced_paths(spec) == [EXAMPLES / "basics" / "src"]

    def test_sampling_limits_and_policy_are_read_as_written(self, sweep):
        spec = load_spec(sweep, overrides=[BANDIT])
        d = spec.definition
        assert d.sampling == Sampling("random", 7, "sobol")
        # The trial timeout as written: azure-ai-ml raises anything under 60 s to 60.
        assert d.limits == SweepLimits(12, 3, 600.0, 20.0)
        assert spec.trial.timeout_s == 20.0 and spec.trial.compute == "cpu-cluster"
        assert d.early_termination == Policy("bandit", 2, 1, slack_factor=0.1)
        assert d.search_space[1] == ("kernel", Parameter("choice", values=("rbf", "linear")))

    def test_a_grid_takes_as_many_trials_as_it_has_points_at_most(self, sweep):
        spec = load_spec(sweep, overrides=["sampling_algorithm=grid",
                                           "search_space.C={type: choice, values: [1, 2, 3]}"])
        assert spec.definition.limits == SweepLimits(6, 3, 600.0, 20.0)

    @pytest.mark.parametrize("override, named", [
        ("search_space.C={type: uniform, min_value: 2, max_value: 1}",
         "search_space.C: min_value 2 is above max_value 1"),
        ("search_space.C={type: quniform, min_value: 0, max_value: 1, q: 0}",
         "search_space.C.q must be above 0"),
        ("search_space.C={type: choice, values: [{a: 1}]}", "nested search spaces are not supported"),
        ("sampling_algorithm=grid", "search_space.C: grid sampling takes only choice"),
        ("limits.max_total_trials=0", "limits.max_total_trials must be a whole number from 1 to 1000"),
        ("limits.trial_timeout=-5", "limits.trial_timeout must be a positive number"),
        ("early_termination={type: bandit, slack_factor: 0.1, slack_amount: 0.2}",
         "needs one of slack_factor and slack_amount"),
        ("early_termination={type: truncation_selection, truncation_percentage: 100}",
         "truncation_percentage must be a whole number from 1 to 99"),
        ("trial.command=python train.py --x ${{search_space.nope}}",
         "trial.command uses ${{search_space.nope}} but the search_space defines no 'nope'"),
        ("trial.command=python train.py --x ${{inputs.nope}}",
         "command uses ${{inputs.nope}} but the spec defines no input 'nope'"),
        ("trial.code=missing", "code path 'missing' does not exist"),
    ])
    def test_what_cannot_be_swept_is_refused_naming_the_field(self, sweep, override, named):
        assert named in refusal(sweep, overrides=[override])

    def test_bayesian_sampling_refuses_distributions_tpe_is_not_given(self, sweep):
        message = refusal(sweep, overrides=["sampling_algorithm=bayesian",
                                            "search_space.C={type: normal, mu: 0, sigma: 1}"])
        assert "search_space.C: bayesian sampling takes only choice, uniform" in message

    def test_bayesian_sampling_takes_no_policy_as_in_azure_ml(self, sweep):
        message = refusal(sweep, overrides=["sampling_algorithm=bayesian", BANDIT])
        assert "bayesian sampling takes no early termination policy" in message

    def test_a_sweep_type_under_a_command_jobs_schema_is_refused(self, sweep):
        message = refusal(sweep, overrides=[
            "$schema=https://azuremlschemas.azureedge.net/latest/commandJob.schema.json"])
        assert "type 'sweep' does not match $schema" in message
