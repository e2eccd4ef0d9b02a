"""A sweep's definition as mlcycle keeps it: the search space, how it is sampled, the
objective, the limits and the early termination policy, with Azure ML's meanings.
Frozen values, written into the sweep's run record as JSON and read back from it."""
from __future__ import annotations

import dataclasses
import math
import re
import shlex
from dataclasses import dataclass
from typing import Iterable

# Where a trial's command takes a hyperparameter: `${{search_space.x}}`, or
# `${{inputs.x}}` for an x of the search space that is no input (azure-ai-ml's spelling).
REFERENCE = re.compile(r"\$\{\{\s*(search_space|inputs)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
GOALS = ("maximize", "minimize")
ALGORITHMS = ("random", "grid", "bayesian")
POLICIES = ("bandit", "median_stopping", "truncation_selection")
# What each kind of parameter is drawn from, as Azure ML defines it.
PARAMETER_FIELDS = {
    "choice": ("values",),
    "randint": ("upper",),  # an integer in [0, upper)
    "uniform": ("min_value", "max_value"),
    "quniform": ("min_value", "max_value", "q"),  # round(uniform / q) * q
    "loguniform": ("min_value", "max_value"),  # exp(uniform(min_value, max_value))
    "qloguniform": ("min_value", "max_value", "q"),
    "normal": ("mu", "sigma"),
    "qnormal": ("mu", "sigma", "q"),
    "lognormal": ("mu", "sigma"),  # exp(normal(mu, sigma))
    "qlognormal": ("mu", "sigma", "q"),
}


@dataclass(frozen=True)
class Parameter:
    """One dimension of the search space; only the fields of its kind are set."""

    kind: str
    values: tuple = ()
    upper: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    mu: float | None = None
    sigma: float | None = None
    q: float | None = None


@dataclass(frozen=True)
class Sampling:
    """`algorithm` random, grid or bayesian; `seed` makes random and bayesian sampling
    repeatable (None in a spec that gives none: the intake chooses one); `rule` random
    or sobol."""

    algorithm: str
    seed: int | None
    rule: str = "random"


@dataclass(frozen=True)
class Objective:
    primary_metric: str
    goal: str  # maximize | minimize

    def better(self, a: float, b: float) -> bool:
        """Whether a is strictly better than b."""
        return a > b if self.goal == "maximize" else a < b

    def best(self, values: Iterable[float]) -> float:
        return (max if self.goal == "maximize" else min)(values)


@dataclass(frozen=True)
class SweepLimits:
    max_total_trials: int
    max_concurrent_trials: int
    timeout_s: float | None = None  # of the whole sweep
    trial_timeout_s: float | None = None  # of each trial


@dataclass(frozen=True)
class Policy:
    """An early termination policy. Each time a trial logs its primary metric is one
    interval; the policy applies at intervals that are multiples of
    evaluation_interval, from interval delay_evaluation on."""

    kind: str  # bandit | median_stopping | truncation_selection
    evaluation_interval: int = 1
    delay_evaluation: int = 0
    slack_factor: float | None = None
    slack_amount: float | None = None
    truncation_percentage: int | None = None
    exclude_finished_jobs: bool = False


@dataclass(frozen=True)
class SweepDefinition:
    """What a sweep searches and how. `search_space` keeps the order it was written in."""

    search_space: tuple[tuple[str, Parameter], ...]
    sampling: Sampling
    objective: Objective
    limits: SweepLimits
    early_termination: Policy | None = None

    def to_record(self) -> dict:
        """The JSON of the sweep's run record (`sweep`)."""
        return {
            # A list: the registry writes objects with sorted keys, which would lose the
            # order that grid sampling and the trial table follow.
            "search_space": [{"name": name, **_set_fields(p)} for name, p in self.search_space],
            "sampling": dataclasses.asdict(self.sampling),
            "objective": dataclasses.asdict(self.objective),
            "limits": dataclasses.asdict(self.limits),
            "early_termination": (_set_fields(self.early_termination)
                                  if self.early_termination else None),
        }

    @classmethod
    def from_record(cls, body: dict) -> "SweepDefinition":
        space = tuple((p["name"], Parameter(**{k: tuple(v) if k == "values" else v
                                               for k, v in p.items() if k != "name"}))
                      for p in body["search_space"])
        policy = body.get("early_termination")
        return cls(space, Sampling(**body["sampling"]), Objective(**body["objective"]),
                   SweepLimits(**body["limits"]), Policy(**policy) if policy else None)


def grid_size(space: tuple[tuple[str, Parameter], ...]) -> int:
    """How many points a grid over choice parameters has."""
    return math.prod(len(p.values) for _, p in space)


def fill_in(command: str, params: dict, inputs: dict) -> str:
    """A trial's command: each REFERENCE to a hyperparameter becomes its value,
    shell-quoted as literal inputs are; references to inputs are left for the launch."""
    def value(match: re.Match) -> str:
        space, name = match[1], match[2]
        if name not in params or (space == "inputs" and name in inputs):
            return match[0]
        return shlex.quote(str(params[name]))
    return REFERENCE.sub(value, command)


def _set_fields(value) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(value).items() if v not in (None, ())}
