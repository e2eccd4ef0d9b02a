"""Bayesian sampling with Optuna's TPE sampler (a tree-structured Parzen estimator).

Nothing of Optuna's is kept between trials: each suggestion builds an in-memory study
from the trials so far (finished ones with their metric, running ones as running, so
that concurrent trials are spread apart) and asks it for one point. The sweep's run
record stays the only state, which is what makes the handler crash-safe."""
from __future__ import annotations

import math
import warnings
from typing import Sequence

from shared.domain.sweeps import Parameter, SweepDefinition

SUPPORTED = ("choice", "uniform", "quniform", "loguniform", "randint")
STARTUP_TRIALS = 10  # Optuna's default: random points before the model takes over


def suggest_bayesian(definition: SweepDefinition, index: int,
                     history: Sequence[tuple[dict, float | None, bool]]) -> dict:
    """The point TPE proposes after `history` (see sweep_sampling.suggest)."""
    import optuna
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = definition.search_space
    distributions = {name: _distribution(p) for name, p in space}
    with warnings.catch_warnings():
        # constant_liar is marked experimental; it is what keeps concurrent trials apart.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=(definition.sampling.seed * 1_000_003 + index) % 2**32,
            n_startup_trials=STARTUP_TRIALS, constant_liar=True)
    study = optuna.create_study(direction=definition.objective.goal, sampler=sampler)
    for params, value, running in history:
        inner = {name: _inner(p, params[name]) for name, p in space}
        if running:
            study.add_trial(create_trial(state=TrialState.RUNNING, params=inner,
                                         distributions=distributions))
        elif value is not None and math.isfinite(value):
            study.add_trial(create_trial(params=inner, distributions=distributions,
                                         value=value))
        # A trial that ended without its metric tells TPE nothing; it is left out.
    trial = study.ask(distributions)
    return {name: _outer(p, trial.params[name]) for name, p in space}


def _distribution(p: Parameter):
    from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                      IntDistribution)

    if p.kind == "choice":
        return CategoricalDistribution(p.values)
    if p.kind == "randint":
        return IntDistribution(0, p.upper - 1)
    if p.kind == "quniform":  # the multiples of q: an integer count of steps
        return IntDistribution(round(p.min_value / p.q), round(p.max_value / p.q))
    if p.kind == "loguniform":  # Azure ML's bounds are exponents
        return FloatDistribution(math.exp(p.min_value), math.exp(p.max_value), log=True)
    return FloatDistribution(p.min_value, p.max_value)


def _inner(p: Parameter, value):
    """A trial's value as its Optuna distribution holds it."""
    return round(value / p.q) if p.kind == "quniform" else value


def _outer(p: Parameter, value):
    if p.kind == "quniform":
        from shared.domain.sweep_sampling import quantize

        return quantize(value * p.q, p.q)
    return value
