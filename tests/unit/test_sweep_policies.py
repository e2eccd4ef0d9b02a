"""Early termination policies: which running trials each stops, at which interval, and
the reason it gives."""
from shared.domain.sweep_policies import Observation, evaluation_point, trials_to_stop
from shared.domain.sweeps import Objective, Policy

UP, DOWN = Objective("accuracy", "maximize"), Objective("loss", "minimize")


def running(name, *values):
    return Observation(name, tuple(values), True)


def finished(name, *values):
    return Observation(name, tuple(values), False)


class TestIntervals:
    def test_the_policy_applies_at_multiples_of_the_interval_from_the_delay_on(self):
        policy = Policy("bandit", evaluation_interval=2, delay_evaluation=3, slack_factor=0.1)
        assert [evaluation_point(policy, n) for n in range(8)] == [None, None, None, None,
                                                                  4, 4, 6, 6]

    def test_without_a_delay_every_logged_value_is_judged(self):
        assert evaluation_point(Policy("median_stopping"), 1) == 1
        assert evaluation_point(Policy("median_stopping"), 0) is None


class TestBandit:
    def test_a_trial_outside_the_slack_factor_of_the_best_is_stopped_with_why(self):
        policy = Policy("bandit", slack_factor=0.2)
        stops = trials_to_stop(policy, UP, [finished("best", 0.9, 1.0), running("close", 0.85),
                                            running("far", 0.5, 0.6)])
        # best/(1+0.2) = 0.8333 at interval 1 for "close"; at interval 2 for "far".
        assert set(stops) == {"far"}
        assert stops["far"] == ("bandit policy at interval 2: best accuracy 0.6 is below "
                                "0.833333, the slack_factor 0.2 of the best trial's 1 (best)")

    def test_a_slack_amount_when_minimizing_stops_trials_above_best_plus_the_amount(self):
        policy = Policy("bandit", slack_amount=0.5)
        stops = trials_to_stop(policy, DOWN, [running("a", 1.0), running("b", 1.6),
                                              running("c", 1.4)])
        assert set(stops) == {"b"} and "above 1.5, the slack_amount 0.5" in stops["b"]

    def test_the_best_trial_and_finished_trials_are_never_stopped(self):
        policy = Policy("bandit", slack_factor=0.0)
        stops = trials_to_stop(policy, UP, [running("lead", 3.0), finished("low", 1.0)])
        assert stops == {}

    def test_a_trial_is_judged_on_its_first_k_values_only(self):
        # "late" is at interval 1; "early" reached 10 only at interval 3.
        policy = Policy("bandit", slack_factor=0.1)
        stops = trials_to_stop(policy, UP, [running("early", 1.0, 1.0, 10.0), running("late", 1.0)])
        assert stops == {}


class TestMedianStopping:
    def test_a_trial_whose_best_is_worse_than_the_median_of_running_averages_stops(self):
        trials = [running("a", 0.2, 0.3), running("b", 0.6, 0.8), running("c", 0.7, 0.9),
                  finished("d", 0.5, 0.7)]
        # averages 0.25, 0.7, 0.8, 0.6: median 0.65; a's best 0.3 is worse.
        stops = trials_to_stop(Policy("median_stopping"), UP, trials)
        assert set(stops) == {"a"}
        assert "best accuracy 0.3 is worse than 0.65, the median of 4 trials'" in stops["a"]

    def test_a_lone_trial_is_never_worse_than_itself(self):
        assert trials_to_stop(Policy("median_stopping"), DOWN, [running("a", 5, 4, 6)]) == {}


class TestTruncationSelection:
    def test_the_worst_percentage_at_the_interval_is_stopped(self):
        trials = [running(n, v) for n, v in (("a", 0.1), ("b", 0.4), ("c", 0.3), ("d", 0.9))]
        stops = trials_to_stop(Policy("truncation_selection", truncation_percentage=50), UP,
                               trials)
        assert set(stops) == {"a", "c"}
        assert "accuracy 0.1 is among the worst 50% (2 of 4 trials)" in stops["a"]

    def test_finished_trials_can_be_left_out_of_the_ranking(self):
        trials = [finished("done", 0.0), running("a", 0.5), running("b", 0.6)]
        kept_in = trials_to_stop(Policy("truncation_selection", truncation_percentage=34),
                                 UP, trials)
        left_out = trials_to_stop(Policy("truncation_selection", truncation_percentage=34,
                                         exclude_finished_jobs=True), UP, trials)
        assert kept_in == {}  # the finished one is the worst third
        assert left_out == {}  # 34% of two running trials rounds down to none
        assert set(trials_to_stop(Policy("truncation_selection", truncation_percentage=50,
                                         exclude_finished_jobs=True), UP, trials)) == {"a"}

    def test_when_minimizing_the_highest_values_are_the_worst(self):
        trials = [running("a", 1.0), running("b", 5.0)]
        assert set(trials_to_stop(Policy("truncation_selection", truncation_percentage=50),
                                  DOWN, trials)) == {"b"}
