"""Sweep jobs (`sweepJob` specs): the trial is checked and converted as the command job
it is, and the search space, sampling, objective, limits and early termination become
a SweepDefinition."""
from __future__ import annotations

import math
import re
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from shared.domain.errors import InvalidSpec
from shared.domain.sweep_bayesian import SUPPORTED as BAYESIAN_KINDS
from shared.domain.sweeps import (PARAMETER_FIELDS, REFERENCE, Objective, Parameter,
                                  Policy, Sampling, SweepDefinition, SweepLimits, grid_size)
from shared.specs import jobs
from shared.specs.document import schema_name
from shared.specs.paths import SpecContext
from shared.specs.types import JobSpec, SweepSpec

MAX_TRIALS = 1000  # Azure ML's own ceiling; the sweep's record lists every trial
# Fields of the sweep that its trials share, and those of `trial:` itself.
_SHARED = ("inputs", "outputs", "compute", "name", "display_name", "experiment_name",
           "description", "tags")
_TRIAL = ("command", "code", "environment", "environment_variables", "distribution",
          "resources")


def is_sweep(doc: dict) -> bool:
    """Whether a job document is a sweep: `type: sweep`, or the sweepJob `$schema`."""
    job_type, schema = doc.get("type"), schema_name(doc)
    if isinstance(job_type, str) and job_type.lower() == "sweep":
        return schema in (None, "sweepjob")
    return job_type is None and schema == "sweepjob"


def prepare_sweep(doc: dict, ctx: SpecContext) -> dict:
    """Check the trial as a command job is checked before the schema sees it (local
    paths, environment, name).

    Returns:
        The document to validate, with the trial's environment and the inputs as the
        schema wants them.
    """
    prepared = jobs.prepare_job(_trial_document(doc), ctx)
    if isinstance(doc.get("trial"), dict) and "environment" in prepared:
        doc = {**doc, "trial": {**doc["trial"], "environment": prepared["environment"]}}
    return {**doc, "inputs": prepared["inputs"]} if "inputs" in doc else doc


def to_sweep_spec(doc: dict, job: Any, ctx: SpecContext) -> SweepSpec:
    """Convert a validated sweep job (`job` is azure-ai-ml's SweepJob for `doc`).

    Raises:
        InvalidSpec: a search space, sampling, objective, limit or policy that cannot
            be swept, or a trial command that names no parameter or input.
    """
    definition = _definition(doc, job)
    trial = _trial_spec(doc, job, definition, ctx)
    return SweepSpec(
        source=ctx.source, trial=trial, definition=definition, name=doc.get("name"),
        display_name=doc.get("display_name"), experiment_name=trial.experiment_name,
        description=doc.get("description") or "", tags=dict(doc.get("tags") or {}))


def _trial_document(doc: dict) -> dict:
    """The command job each trial is, as a commandJob document."""
    trial = doc.get("trial")
    if not isinstance(trial, dict):
        raise InvalidSpec("trial: a sweep needs a trial, the command job each trial runs")
    if not isinstance(trial.get("command"), str) or not trial["command"].strip():
        raise InvalidSpec("trial.command: required field missing")
    return {**{k: doc[k] for k in _SHARED if k in doc},
            **{k: trial[k] for k in _TRIAL if k in trial}, "type": "command"}


def _trial_spec(doc: dict, job: Any, definition: SweepDefinition,
                ctx: SpecContext) -> JobSpec:
    """The trial as the command job spec it is, its command as written: hyperparameter
    references stand in for values while the command job's own checks run."""
    trial_doc = _trial_document(doc)
    command = trial_doc["command"]
    names = {name for name, _ in definition.search_space}
    inputs = set((doc.get("inputs") or {}) if isinstance(doc.get("inputs"), dict) else ())

    def stand_in(match: re.Match) -> str:
        space, name = match[1], match[2]
        if space == "inputs" and (name in inputs or name not in names):
            return match[0]  # an ordinary input: the command job's own check applies
        if name not in names:
            raise InvalidSpec(f"trial.command uses ${{{{search_space.{name}}}}} but the "
                              f"search_space defines no '{name}'")
        return "0"  # each trial fills in its own value

    checked = REFERENCE.sub(stand_in, command)
    entity = SimpleNamespace(resources=job.trial.resources, distribution=job.trial.distribution,
                             limits=SimpleNamespace(timeout=definition.limits.trial_timeout_s))
    spec = jobs.to_job_spec({**trial_doc, "command": checked}, entity, ctx)
    return replace(spec, command=command)


def _definition(doc: dict, job: Any) -> SweepDefinition:
    space = tuple((name, _parameter(name, p)) for name, p in (job.search_space or {}).items())
    if not space:
        raise InvalidSpec("search_space: a sweep needs at least one parameter")
    sampling = _sampling(job.sampling_algorithm, space)
    policy = _policy(doc.get("early_termination"))
    if policy is not None and sampling.algorithm == "bayesian":
        raise InvalidSpec("early_termination: bayesian sampling takes no early termination "
                          "policy (as in Azure ML); use random or grid sampling")
    return SweepDefinition(space, sampling, _objective(job.objective),
                           _limits(doc.get("limits"), sampling, space), policy)


def _parameter(name: str, given: Any) -> Parameter:
    kind = str(getattr(given, "type", "")).lower()
    if kind not in PARAMETER_FIELDS:
        raise InvalidSpec(f"search_space.{name}: unknown type '{kind}'")
    fields = {f: getattr(given, f, None) for f in PARAMETER_FIELDS[kind]}
    if missing := [f for f, v in fields.items() if v is None]:
        raise InvalidSpec(f"search_space.{name}: {kind} needs {', '.join(missing)}")
    where = f"search_space.{name}"
    if kind == "choice":
        values = tuple(fields["values"])
        if not values:
            raise InvalidSpec(f"{where}: choice needs at least one value")
        if not all(isinstance(v, (str, int, float, bool)) for v in values):
            raise InvalidSpec(f"{where}: choice values must be numbers, strings or booleans "
                              "(nested search spaces are not supported)")
        return Parameter(kind, values=values)
    numbers = {f: _number(v, f"{where}.{f}") for f, v in fields.items()}
    if kind == "randint" and (numbers["upper"] < 1 or not float(numbers["upper"]).is_integer()):
        raise InvalidSpec(f"{where}.upper must be a whole number of at least 1")
    if "min_value" in numbers and numbers["min_value"] > numbers["max_value"]:
        raise InvalidSpec(f"{where}: min_value {numbers['min_value']} is above max_value "
                          f"{numbers['max_value']}")
    for positive in ("q", "sigma"):
        if positive in numbers and numbers[positive] <= 0:
            raise InvalidSpec(f"{where}.{positive} must be above 0")
    if kind == "randint":
        numbers["upper"] = int(numbers["upper"])
    return Parameter(kind, **numbers)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidSpec(f"{where} must be a number, not {value!r}")
    return value


def _sampling(given: Any, space: tuple) -> Sampling:
    kind = str(getattr(given, "type", given) or "random").lower()
    if kind not in ("random", "grid", "bayesian"):
        raise InvalidSpec(f"sampling_algorithm: '{kind}' is not random, grid or bayesian")
    if kind == "grid" and (other := [n for n, p in space if p.kind != "choice"]):
        raise InvalidSpec(f"search_space.{other[0]}: grid sampling takes only choice "
                          "parameters")
    if kind == "bayesian" and (other := [n for n, p in space if p.kind not in BAYESIAN_KINDS]):
        raise InvalidSpec(f"search_space.{other[0]}: bayesian sampling takes only "
                          f"{', '.join(BAYESIAN_KINDS)} parameters")
    rule = str(getattr(given, "rule", None) or "random").lower()
    if rule not in ("random", "sobol"):
        raise InvalidSpec(f"sampling_algorithm.rule: '{rule}' is not random or sobol")
    seed = getattr(given, "seed", None)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise InvalidSpec(f"sampling_algorithm.seed must be a whole number of at least 0, "
                          f"not {seed!r}")
    return Sampling(kind, seed, rule)  # a missing seed is chosen at intake


def _objective(given: Any) -> Objective:
    metric = getattr(given, "primary_metric", None)
    goal = str(getattr(given, "goal", "") or "").lower()
    if not metric:
        raise InvalidSpec("objective.primary_metric: required field missing")
    if goal not in ("maximize", "minimize"):
        raise InvalidSpec(f"objective.goal: '{goal}' is not maximize or minimize")
    return Objective(str(metric), goal)


def _limits(given: Any, sampling: Sampling, space: tuple) -> SweepLimits:
    given = given if isinstance(given, dict) else {}
    total = _count(given.get("max_total_trials"), "limits.max_total_trials")
    if sampling.algorithm == "grid":
        total = min(total, grid_size(space))  # a grid has no more points than that
    concurrent = _count(given.get("max_concurrent_trials") or total,
                        "limits.max_concurrent_trials")
    return SweepLimits(total, min(concurrent, total), _seconds(given, "timeout"),
                       _seconds(given, "trial_timeout"))


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TRIALS:
        raise InvalidSpec(f"{where} must be a whole number from 1 to {MAX_TRIALS}, "
                          f"not {value!r}")
    return value


def _seconds(given: dict, field: str) -> float | None:
    value = given.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InvalidSpec(f"limits.{field} must be a positive number of seconds, "
                          f"not {value!r}")
    return float(value)


def _policy(given: Any) -> Policy | None:
    """The policy as written (azure-ai-ml fills in 0 for the slack a bandit was not
    given, which would read as a second, zero slack)."""
    if not isinstance(given, dict):
        return None  # none, or a shape the schema refused
    kind = str(given.get("type", "")).lower()
    if kind not in ("bandit", "median_stopping", "truncation_selection"):
        raise InvalidSpec(f"early_termination.type: '{kind}' is not bandit, "
                          "median_stopping or truncation_selection")
    interval = given.get("evaluation_interval") or 1
    delay = given.get("delay_evaluation") or 0
    if interval < 1 or delay < 0:
        raise InvalidSpec("early_termination: evaluation_interval must be at least 1 and "
                          "delay_evaluation at least 0")
    fields: dict = {}
    if kind == "bandit":
        factor, amount = given.get("slack_factor"), given.get("slack_amount")
        if (factor is None) == (amount is None):
            raise InvalidSpec("early_termination: a bandit policy needs one of slack_factor "
                              "and slack_amount")
        if (factor if factor is not None else amount) < 0:
            raise InvalidSpec("early_termination: the bandit's slack must not be negative")
        fields = {"slack_factor": factor, "slack_amount": amount}
    elif kind == "truncation_selection":
        percentage = given.get("truncation_percentage")
        if isinstance(percentage, bool) or not isinstance(percentage, int) or \
                not 1 <= percentage <= 99:
            raise InvalidSpec("early_termination.truncation_percentage must be a whole "
                              f"number from 1 to 99, not {percentage!r}")
        fields = {"truncation_percentage": percentage,
                  "exclude_finished_jobs": bool(given.get("exclude_finished_jobs", False))}
    return Policy(kind, int(interval), int(delay), **fields)
