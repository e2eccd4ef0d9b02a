"""Early termination: which running trials a policy stops, and why, from the primary
metric each trial has logged so far. Pure functions of what the trials reported.

As in Azure ML, each value a trial logs is one interval. A running trial is judged at
the latest interval k it has reached where the policy applies (a multiple of
evaluation_interval, at least delay_evaluation), against every trial's first k values
(a trial that ended sooner counts with all it logged):

- bandit: stopped if its best value is outside the slack of the best trial's best:
  below best / (1 + slack_factor) or best - slack_amount when maximizing, above
  best * (1 + slack_factor) or best + slack_amount when minimizing.
- median_stopping: stopped if its best value is worse than the median of the trials'
  running averages.
- truncation_selection: stopped if its value at k is among the worst
  truncation_percentage percent (rounded down) of the trials, finished trials left out
  with exclude_finished_jobs.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Sequence

from shared.domain.sweeps import Objective, Policy


@dataclass(frozen=True)
class Observation:
    """One trial as a policy sees it: its primary metric in the order logged."""

    name: str
    values: tuple[float, ...]
    running: bool


def trials_to_stop(policy: Policy, objective: Objective,
                   trials: Sequence[Observation]) -> dict[str, str]:
    """Running trial name -> why the policy stops it; trials it keeps are absent."""
    rule = _RULES[policy.kind]
    stops = {}
    for trial in trials:
        k = evaluation_point(policy, len(trial.values))
        if trial.running and k is not None:
            reason = rule(policy, objective, trial, [t for t in trials if t.values], k)
            if reason:
                stops[trial.name] = f"{policy.kind} policy at interval {k}: {reason}"
    return stops


def evaluation_point(policy: Policy, logged: int) -> int | None:
    """The latest interval, of the `logged` a trial has reached, at which the policy
    applies; None before the first."""
    k = logged - logged % max(policy.evaluation_interval, 1)
    return k if k >= max(policy.delay_evaluation, 1) else None


def _bandit(policy: Policy, objective: Objective, trial: Observation,
            peers: list[Observation], k: int) -> str:
    own = objective.best(trial.values[:k])
    leader = _leader(objective, peers, k)
    top = objective.best(leader.values[:k])
    up = objective.goal == "maximize"
    if policy.slack_factor is not None:
        limit = top / (1 + policy.slack_factor) if up else top * (1 + policy.slack_factor)
        slack = f"slack_factor {policy.slack_factor:g}"
    else:
        limit = top - policy.slack_amount if up else top + policy.slack_amount
        slack = f"slack_amount {policy.slack_amount:g}"
    if not objective.better(limit, own):
        return ""
    return (f"best {objective.primary_metric} {own:g} is {'below' if up else 'above'} "
            f"{limit:g}, the {slack} of the best trial's {top:g} ({leader.name})")


def _median_stopping(policy: Policy, objective: Objective, trial: Observation,
                     peers: list[Observation], k: int) -> str:
    own = objective.best(trial.values[:k])
    median = statistics.median(statistics.fmean(p.values[:k]) for p in peers)
    if not objective.better(median, own):
        return ""
    return (f"best {objective.primary_metric} {own:g} is worse than {median:g}, the "
            f"median of {len(peers)} trials' running averages")


def _truncation_selection(policy: Policy, objective: Objective, trial: Observation,
                          peers: list[Observation], k: int) -> str:
    pool = [p for p in peers if p.running or not policy.exclude_finished_jobs]
    cut = len(pool) * policy.truncation_percentage // 100
    # Worst first; ties broken by name, so that every evaluation ranks alike.
    sign = 1 if objective.goal == "maximize" else -1
    ranked = sorted(pool, key=lambda p: (sign * _at(p, k), p.name))
    if trial.name not in {p.name for p in ranked[:cut]}:
        return ""
    return (f"{objective.primary_metric} {_at(trial, k):g} is among the worst "
            f"{policy.truncation_percentage}% ({cut} of {len(pool)} trials)")


def _leader(objective: Objective, peers: list[Observation], k: int) -> Observation:
    leader = peers[0]
    for peer in peers[1:]:
        if objective.better(objective.best(peer.values[:k]), objective.best(leader.values[:k])):
            leader = peer
    return leader


def _at(trial: Observation, k: int) -> float:
    return trial.values[min(k, len(trial.values)) - 1]


_RULES = {"bandit": _bandit, "median_stopping": _median_stopping,
          "truncation_selection": _truncation_selection}
