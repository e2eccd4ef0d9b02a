"""Where a sweep's next trial goes: random sampling (plain or Sobol), grid sampling, and
bayesian sampling (Optuna's TPE, in shared.domain.sweep_bayesian).

Random and grid points depend only on the sweep's seed and the trial's index, so the
same trial always gets the same hyperparameters; a bayesian point depends on what the
trials before it found, which is why the sweep handler records each trial's point
before it starts the trial."""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import Sequence

from shared.domain.sweeps import Parameter, SweepDefinition, grid_size

_EDGE = 1e-12  # keeps a unit draw off 0 and 1, where the normal's inverse is infinite


def suggest(definition: SweepDefinition, index: int,
            history: Sequence[tuple[dict, float | None, bool]] = ()) -> dict | None:
    """The hyperparameters of trial `index` (0-based).

    Parameters:
        history: for bayesian sampling, (hyperparameters, final primary metric or None,
            still running) of each trial planned before this one.
    Returns:
        name -> value, in search space order; None when a grid has no point left.
    """
    sampling = definition.sampling
    if sampling.algorithm == "grid":
        return grid_point(definition.search_space, index)
    if sampling.algorithm == "bayesian":
        from shared.domain.sweep_bayesian import suggest_bayesian

        return suggest_bayesian(definition, index, history)
    units = (_sobol(len(definition.search_space), sampling.seed, index)
             if sampling.rule == "sobol" else _uniform(len(definition.search_space),
                                                       sampling.seed, index))
    return {name: from_unit(p, u) for (name, p), u in zip(definition.search_space, units)}


def grid_point(space: tuple[tuple[str, Parameter], ...], index: int) -> dict | None:
    """Point `index` of the grid, the last parameter varying fastest (as
    itertools.product orders them); None past the last point."""
    if index >= grid_size(space):
        return None
    point = {}
    for name, p in reversed(space):
        index, position = divmod(index, len(p.values))
        point[name] = p.values[position]
    return {name: point[name] for name, _ in space}


def from_unit(p: Parameter, u: float) -> object:
    """The value of parameter p at u in [0, 1): its quantile, so that a uniform u gives
    a draw from p's distribution."""
    if p.kind == "choice":
        return p.values[min(int(u * len(p.values)), len(p.values) - 1)]
    if p.kind == "randint":
        return min(int(u * p.upper), p.upper - 1)
    if p.kind in ("uniform", "quniform", "loguniform", "qloguniform"):
        x = p.min_value + u * (p.max_value - p.min_value)
    else:
        x = p.mu + p.sigma * NormalDist().inv_cdf(min(max(u, _EDGE), 1 - _EDGE))
    if p.kind in ("loguniform", "qloguniform", "lognormal", "qlognormal"):
        x = math.exp(x)
    return quantize(x, p.q) if p.q is not None else x


def quantize(x: float, q: float) -> float | int:
    """round(x / q) * q, as Azure ML's q-distributions define it; an integer when q is."""
    steps = round(x / q)
    if float(q).is_integer():
        return int(steps * int(q))
    return round(steps * q, 12)  # 3 * 0.1 is 0.30000000000000004 otherwise


def _uniform(dimensions: int, seed: int, index: int) -> list[float]:
    import numpy as np

    return [float(u) for u in np.random.default_rng([seed, index]).random(dimensions)]


def _sobol(dimensions: int, seed: int, index: int) -> list[float]:
    from scipy.stats import qmc

    engine = qmc.Sobol(dimensions, scramble=True, seed=seed)
    if index:
        engine.fast_forward(index)  # scipy refuses to skip nothing
    return [float(u) for u in engine.random(1)[0]]
