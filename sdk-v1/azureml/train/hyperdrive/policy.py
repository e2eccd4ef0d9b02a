"""Early termination policies of HyperDrive, each the `early_termination` of an Azure
ML v2 sweep job, which mlcycle's sweep handler applies while trials run: every value a
trial logs of the primary metric (`Run.get_context().log`) is one interval."""
from __future__ import annotations

import numbers
from typing import Any

from azureml.train.hyperdrive.exceptions import HyperDriveConfigException


class EarlyTerminationPolicy:
    """A policy applied every evaluation_interval intervals, from delay_evaluation on."""

    POLICY_NAME = ""
    _TYPE = ""  # the v2 early_termination type

    def __init__(self, name: str = "", properties: dict | None = None,
                 evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        self._name = name or self.POLICY_NAME
        self._properties = dict(properties or {})
        self.evaluation_interval = _whole("evaluation_interval", evaluation_interval, least=1)
        self.delay_evaluation = _whole("delay_evaluation", delay_evaluation, least=0)

    def to_json(self) -> dict:
        """The policy as v1 serialised it: its name and properties."""
        return {"name": self._name, "properties": {
            "evaluation_interval": self.evaluation_interval,
            "delay_evaluation": self.delay_evaluation, **self._properties}}

    def _spec(self) -> dict | None:
        """The sweep job's early_termination (None: no policy)."""
        return {"type": self._TYPE, "evaluation_interval": self.evaluation_interval,
                "delay_evaluation": self.delay_evaluation, **self._properties}


class BanditPolicy(EarlyTerminationPolicy):
    """Stop a trial whose best primary metric is outside the slack of the best trial's:
    below best / (1 + slack_factor), or best - slack_amount, when maximizing.

    Raises:
        HyperDriveConfigException: both slack_factor and slack_amount, or neither, or a
            negative slack.
    """

    POLICY_NAME = "Bandit"
    _TYPE = "bandit"

    def __init__(self, evaluation_interval: int = 1, slack_factor: float | None = None,
                 slack_amount: float | None = None, delay_evaluation: int = 0) -> None:
        if (slack_factor is None) == (slack_amount is None):
            raise HyperDriveConfigException(
                "BanditPolicy takes slack_factor or slack_amount (one of them)")
        field, slack = (("slack_factor", slack_factor) if slack_factor is not None
                        else ("slack_amount", slack_amount))
        if isinstance(slack, bool) or not isinstance(slack, numbers.Real) or slack < 0:
            raise HyperDriveConfigException(f"BanditPolicy: {field} must be a number of at "
                                            f"least 0, not {slack!r}")
        super().__init__(properties={field: float(slack)},
                         evaluation_interval=evaluation_interval,
                         delay_evaluation=delay_evaluation)

    @property
    def slack_factor(self) -> float | None:
        """The slack as a ratio, if given."""
        return self._properties.get("slack_factor")

    @property
    def slack_amount(self) -> float | None:
        """The slack as an amount, if given."""
        return self._properties.get("slack_amount")


class MedianStoppingPolicy(EarlyTerminationPolicy):
    """Stop a trial whose best primary metric is worse than the median of the trials'
    running averages."""

    POLICY_NAME = "MedianStopping"
    _TYPE = "median_stopping"

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 5) -> None:
        super().__init__(evaluation_interval=evaluation_interval,
                         delay_evaluation=delay_evaluation)


class TruncationSelectionPolicy(EarlyTerminationPolicy):
    """Stop the worst truncation_percentage percent of the trials at each evaluation.

    Raises:
        HyperDriveConfigException: a percentage that is not a whole number from 1 to 99,
            or exclude_finished_jobs, which Azure ML v2 sweep jobs have no field for.
    """

    POLICY_NAME = "TruncationSelection"
    _TYPE = "truncation_selection"

    def __init__(self, truncation_percentage: int, evaluation_interval: int = 1,
                 delay_evaluation: int = 0, exclude_finished_jobs: bool = False) -> None:
        percentage = _whole("truncation_percentage", truncation_percentage, least=1)
        if percentage > 99:
            raise HyperDriveConfigException("TruncationSelectionPolicy: truncation_percentage "
                                            f"must be from 1 to 99, not {percentage}")
        if exclude_finished_jobs:
            raise HyperDriveConfigException(
                "TruncationSelectionPolicy: exclude_finished_jobs is not offered (an Azure "
                "ML v2 sweep job has no such field); finished trials are always ranked")
        super().__init__(properties={"truncation_percentage": percentage},
                         evaluation_interval=evaluation_interval,
                         delay_evaluation=delay_evaluation)


class NoTerminationPolicy(EarlyTerminationPolicy):
    """No early termination: every trial runs to its end."""

    POLICY_NAME = "Default"

    def __init__(self) -> None:
        super().__init__()

    def _spec(self) -> None:
        return None


def _whole(field: str, value: Any, *, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise HyperDriveConfigException(f"{field} must be a whole number of at least {least}, "
                                        f"not {value!r}")
    return int(value)
