"""Area 7, sweeps: does bayesian sampling (Optuna's TPE, as the sweep handler asks it)
beat random sampling at equal trial counts?

Both samplers are driven exactly as shared/handlers/sweep.py drives them: each new
trial is asked of `shared.domain.sweep_sampling.suggest` with the trials so far (the
finished ones with their metric, the running ones as running), up to
max_concurrent_trials at once, the oldest running trial finishing first. The trials are
evaluations of a known 2-D function, the Branin-Hoo function on [-5, 10] x [0, 15]
(three global minima of 0.397887), so no process runs and every figure is the same on
any machine: each seed fixes both samplers' draws.

The figure is the regret, the best value found minus the true minimum, after the
sweep's trials; reported per seed as random's regret divided by bayesian's (above 1:
bayesian found a better point), and as the share of seeds bayesian won."""
from __future__ import annotations

import math

from bench.stats import summary
from shared.domain.sweep_sampling import suggest
from shared.domain.sweeps import Objective, Parameter, Sampling, SweepDefinition, SweepLimits

MINIMUM = 0.397887
SPACE = (("x1", Parameter("uniform", min_value=-5.0, max_value=10.0)),
         ("x2", Parameter("uniform", min_value=0.0, max_value=15.0)))


def branin(x1: float, x2: float) -> float:
    b, c = 5.1 / (4 * math.pi ** 2), 5 / math.pi
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10


def run(plan) -> dict:
    out = {"function": "branin", "trials": plan.sweep_trials, "seeds": plan.sweep_seeds,
           "configs": {}}
    for concurrent in plan.sweep_concurrency:
        regrets = {algorithm: [_regret(algorithm, seed, plan.sweep_trials, concurrent)
                               for seed in range(plan.sweep_seeds)]
                   for algorithm in ("random", "bayesian")}
        pairs = list(zip(regrets["random"], regrets["bayesian"]))
        out["configs"][f"c{concurrent}"] = {
            "concurrent": concurrent,
            "random_regret": summary(regrets["random"]),
            "bayesian_regret": summary(regrets["bayesian"]),
            "random_over_bayesian": summary(r / b for r, b in pairs if b > 0),
            "bayesian_wins": sum(b < r for r, b in pairs) / len(pairs),
        }
    return out


def _regret(algorithm: str, seed: int, trials: int, concurrent: int) -> float:
    definition = SweepDefinition(SPACE, Sampling(algorithm, seed), Objective("f", "minimize"),
                                 SweepLimits(trials, concurrent))
    history: list[tuple[dict, float | None, bool]] = []
    running: list[int] = []
    for index in range(trials):
        if len(running) == concurrent:  # the oldest trial ends; its slot takes the next
            done = running.pop(0)
            params, _, _ = history[done]
            history[done] = (params, branin(**params), False)
        history.append((suggest(definition, index, history), None, True))
        running.append(index)
    values = [branin(**params) for params, _, _ in history]
    return min(values) - MINIMUM
