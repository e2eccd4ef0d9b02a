"""Where a sweep's trials go: grid points, random and Sobol draws with Azure ML's
meanings of each distribution, and Optuna's TPE for bayesian sampling."""
import itertools
import math

import pytest

from shared.domain.sweep_sampling import from_unit, grid_point, quantize, suggest
from shared.domain.sweeps import Objective, Parameter, Sampling, SweepDefinition, SweepLimits


def definition(space, algorithm="random", seed=11, rule="random", goal="maximize"):
    return SweepDefinition(tuple(space), Sampling(algorithm, seed, rule), Objective("m", goal),
                           SweepLimits(100, 4))


GRID = (("kernel", Parameter("choice", values=("rbf", "linear", "poly"))),
        ("C", Parameter("choice", values=(0.1, 1, 10))),
        ("shrinking", Parameter("choice", values=(True, False))))


class TestGrid:
    def test_the_grid_is_walked_in_product_order_and_then_ends(self):
        points = [grid_point(GRID, i) for i in range(18)]
        expected = [dict(zip(("kernel", "C", "shrinking"), combo)) for combo in
                    itertools.product(*(p.values for _, p in GRID))]
        assert points == expected
        assert grid_point(GRID, 18) is None
        assert suggest(definition(GRID, "grid"), 18) is None


class TestRandom:
    SPACE = (("x", Parameter("uniform", min_value=-2, max_value=3)),
             ("q", Parameter("quniform", min_value=0, max_value=10, q=2)),
             ("lr", Parameter("loguniform", min_value=math.log(1e-4), max_value=math.log(1e-1))),
             ("n", Parameter("randint", upper=5)),
             ("k", Parameter("choice", values=("a", "b"))),
             ("z", Parameter("normal", mu=10, sigma=0.001)))

    @pytest.mark.parametrize("rule", ["random", "sobol"])
    def test_every_draw_lies_where_its_distribution_puts_it(self, rule):
        for i in range(64):
            p = suggest(definition(self.SPACE, rule=rule), i)
            assert -2 <= p["x"] <= 3 and isinstance(p["x"], float)
            assert p["q"] in (0, 2, 4, 6, 8, 10) and isinstance(p["q"], int)
            assert 1e-4 <= p["lr"] <= 1e-1
            assert p["n"] in range(5) and p["k"] in ("a", "b")
            assert abs(p["z"] - 10) < 0.01

    def test_the_same_seed_and_index_give_the_same_point_and_others_differ(self):
        same = [suggest(definition(self.SPACE, seed=5), 3) for _ in range(2)]
        assert same[0] == same[1]
        assert suggest(definition(self.SPACE, seed=6), 3) != same[0]
        assert suggest(definition(self.SPACE, seed=5), 4) != same[0]

    def test_uniform_draws_cover_their_range_evenly(self):
        xs = [suggest(definition(self.SPACE[:1], seed=1), i)["x"] for i in range(400)]
        quarters = [sum(-2 + 1.25 * j <= x < -2 + 1.25 * (j + 1) for x in xs) for j in range(4)]
        assert all(60 < n < 140 for n in quarters), quarters

    def test_quantiles_follow_azure_mls_definitions(self):
        assert from_unit(Parameter("loguniform", min_value=0, max_value=2), 0.5) == math.exp(1)
        assert from_unit(Parameter("qlognormal", mu=0, sigma=1, q=1), 0.5) == 1
        assert from_unit(Parameter("randint", upper=3), 0.999) == 2
        assert quantize(0.31, 0.1) == 0.3 and quantize(7.2, 5) == 5


class TestBayesian:
    SPACE = (("x", Parameter("uniform", min_value=-5, max_value=5)),
             ("y", Parameter("quniform", min_value=-5, max_value=5, q=0.5)))

    def test_points_stay_in_the_space_and_concentrate_near_the_optimum(self):
        d = definition(self.SPACE, "bayesian", goal="minimize")
        history = []
        for i in range(30):
            p = suggest(d, i, history)
            assert -5 <= p["x"] <= 5 and p["y"] in [k / 2 for k in range(-10, 11)]
            history.append((p, (p["x"] - 2) ** 2 + (p["y"] + 1) ** 2, False))
        late = [v for _, v, _ in history[20:]]
        early = [v for _, v, _ in history[:10]]  # TPE's random start-up points
        assert sorted(late)[len(late) // 2] < sorted(early)[len(early) // 2]

    def test_running_trials_are_given_to_tpe_and_a_point_is_still_proposed(self):
        d = definition(self.SPACE, "bayesian")
        history = [({"x": 1.0, "y": 0.5}, 3.0, False), ({"x": -1.0, "y": 1.0}, None, True)]
        point = suggest(d, 2, history)
        assert set(point) == {"x", "y"}
