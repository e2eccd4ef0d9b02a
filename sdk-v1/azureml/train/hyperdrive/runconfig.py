"""HyperDriveConfig: a hyperparameter sweep of a ScriptRunConfig (or an estimator), which
`Experiment.submit` runs as an mlcycle sweep job (docs/sdk-v1.md)."""
from __future__ import annotations

import numbers
from contextlib import ExitStack
from typing import Any

from azureml.core.script_run_config import ScriptRunConfig
from azureml.train.hyperdrive.exceptions import (HyperDriveConfigException,
                                                 HyperDriveScenarioNotSupportedException)
from azureml.train.hyperdrive.policy import EarlyTerminationPolicy, NoTerminationPolicy
from azureml.train.hyperdrive.run import PrimaryMetricGoal
from azureml.train.hyperdrive.sampling import (BayesianParameterSampling,
                                               HyperParameterSampling)

MAX_TOTAL_RUNS = 1000  # mlcycle's ceiling, as Azure ML's: what max_total_runs=None means


class HyperDriveConfig:
    """What a HyperDrive run searches, how, and for how long.

    Parameters:
        hyperparameter_sampling: RandomParameterSampling, GridParameterSampling or
            BayesianParameterSampling; each parameter is passed to the script as the
            argument it names (`--lr` or `lr`: `--lr <value>`).
        primary_metric_name: the metric the trials log (`Run.get_context().log`).
        primary_metric_goal: PrimaryMetricGoal.MAXIMIZE or MINIMIZE.
        max_total_runs: how many trials at most (None: 1000; a grid: its size at most).
        max_concurrent_runs: how many at once (None: all of them).
        max_duration_minutes: the sweep's limit; running trials are canceled then.
        policy: BanditPolicy, MedianStoppingPolicy, TruncationSelectionPolicy,
            NoTerminationPolicy or None.
        run_config: the ScriptRunConfig each trial runs; or estimator: an estimator.
        custom_run_id: the sweep's run id.
    Raises:
        HyperDriveConfigException: neither or both of run_config and estimator, a
            pipeline or a resumed run (not offered), or a limit that is not a whole
            number of at least 1.
        HyperDriveScenarioNotSupportedException: a policy with Bayesian sampling.
    """

    def __init__(self, hyperparameter_sampling: HyperParameterSampling,
                 primary_metric_name: str, primary_metric_goal: Any,
                 max_total_runs: int | None = None, max_concurrent_runs: int | None = None,
                 max_duration_minutes: float | None = 10080,
                 policy: EarlyTerminationPolicy | None = None, estimator: Any = None,
                 run_config: Any = None, resume_from: Any = None,
                 resume_child_runs: Any = None, pipeline: Any = None,
                 debug_flag: Any = None, custom_run_id: str | None = None) -> None:
        if pipeline is not None:
            raise HyperDriveConfigException("HyperDriveConfig: pipelines are not offered; "
                                            "give a ScriptRunConfig as run_config")
        if resume_from is not None or resume_child_runs is not None:
            raise HyperDriveConfigException("HyperDriveConfig: warm starts (resume_from, "
                                            "resume_child_runs) are not offered")
        if (estimator is None) == (run_config is None):
            raise HyperDriveConfigException("HyperDriveConfig takes a run_config (a "
                                            "ScriptRunConfig) or an estimator (one of them)")
        if not isinstance(hyperparameter_sampling, HyperParameterSampling):
            raise HyperDriveConfigException(
                "hyperparameter_sampling must be RandomParameterSampling, "
                "GridParameterSampling or BayesianParameterSampling")
        if not isinstance(primary_metric_name, str) or not primary_metric_name:
            raise HyperDriveConfigException("primary_metric_name: the name of the metric "
                                            "the trials log is required")
        if policy is not None and not isinstance(policy, EarlyTerminationPolicy):
            raise HyperDriveConfigException("policy must be an early termination policy of "
                                            "azureml.train.hyperdrive, or None")
        if isinstance(hyperparameter_sampling, BayesianParameterSampling) and \
                policy is not None and not isinstance(policy, NoTerminationPolicy):
            raise HyperDriveScenarioNotSupportedException(
                "No early termination policy is supported with Bayesian sampling")
        self.hyperparameter_sampling = hyperparameter_sampling
        self.primary_metric_name = primary_metric_name
        self.primary_metric_goal = PrimaryMetricGoal.from_str(primary_metric_goal)
        self.max_total_runs = _count("max_total_runs", max_total_runs) or MAX_TOTAL_RUNS
        self.max_concurrent_runs = _count("max_concurrent_runs", max_concurrent_runs)
        if max_duration_minutes is not None and (
                isinstance(max_duration_minutes, bool)
                or not isinstance(max_duration_minutes, numbers.Real)
                or max_duration_minutes <= 0):
            raise HyperDriveConfigException("max_duration_minutes must be a positive number, "
                                            f"not {max_duration_minutes!r}")
        self.max_duration_minutes = max_duration_minutes
        self.policy = policy
        self.estimator, self.run_config = estimator, run_config
        self._custom_run_id = custom_run_id

    @property
    def source_directory(self) -> str:
        """The trials' code folder."""
        return self._script_run_config().source_directory

    def _script_run_config(self) -> ScriptRunConfig:
        """What each trial runs, as a ScriptRunConfig."""
        if self.estimator is not None:
            return self.estimator._script_run_config()
        if not isinstance(self.run_config, ScriptRunConfig):
            raise HyperDriveConfigException("run_config must be a ScriptRunConfig, not "
                                            f"{type(self.run_config).__name__}")
        return self.run_config

    def _spec(self, experiment_name: str, tags: dict | None, stack: ExitStack) -> dict:
        from azureml.train.hyperdrive._sweep_job import sweep_job

        return sweep_job(self, experiment_name, tags, stack)


class HyperDriveRunConfig(HyperDriveConfig):
    """v1's older name, with the estimator first."""

    def __init__(self, estimator: Any, hyperparameter_sampling: HyperParameterSampling,
                 primary_metric_name: str, primary_metric_goal: Any, max_total_runs: int,
                 max_concurrent_runs: int | None = None, max_duration_minutes: float = 10080,
                 policy: EarlyTerminationPolicy | None = None) -> None:
        super().__init__(hyperparameter_sampling, primary_metric_name, primary_metric_goal,
                         max_total_runs, max_concurrent_runs, max_duration_minutes, policy,
                         estimator=estimator)


def _count(field: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or \
            not 1 <= value <= MAX_TOTAL_RUNS:
        raise HyperDriveConfigException(f"{field} must be a whole number from 1 to "
                                        f"{MAX_TOTAL_RUNS}, not {value!r}")
    return int(value)
