"""A sweep as azure-ai-ml reads it: ARM's JobBase with SweepJob properties, and
`properties.best_child_run_id` as Azure ML sets it. What the SDK sent is echoed back;
a sweep submitted another way (CLI, drop zone) is described from its record."""
from __future__ import annotations

from shared.arm.scope import Scope
from shared.arm.shapes import resource
from shared.domain.pools import LOCAL_POOL
from shared.domain.sweeps import PARAMETER_FIELDS

_ALGORITHMS = {"random": "Random", "grid": "Grid", "bayesian": "Bayesian"}
_POLICIES = {"bandit": "Bandit", "median_stopping": "MedianStopping",
             "truncation_selection": "TruncationSelection"}


def sweep_shape(scope: Scope, run: dict, base: str, sent: dict, studio: str) -> dict:
    """The JobBase of a sweep's run record; `sent` is what the SDK put, if it did."""
    definition, trial = run["sweep"], run["trial"]
    compute = trial.get("compute")
    props = {
        "jobType": "Sweep", "status": run["status"],
        "displayName": run.get("display_name"), "experimentName": run.get("experiment_name"),
        "description": run.get("description") or None, "tags": run.get("tags") or {},
        "isArchived": False,
        "properties": {**(sent.get("properties") or {}),
                       **({"best_child_run_id": run["best_child_run_id"]}
                          if run.get("best_child_run_id") else {})},
        "computeId": scope.id("computes", compute) if compute and compute != LOCAL_POOL
        else None,
        "trial": sent.get("trial") or {"command": trial["command"],
                                       "environmentId": trial.get("environment")},
        "inputs": sent.get("inputs") or {}, "outputs": sent.get("outputs") or {},
        "searchSpace": {p["name"]: _expression(p) for p in definition["search_space"]},
        "samplingAlgorithm": _sampling(definition["sampling"]),
        "objective": {"goal": definition["objective"]["goal"].capitalize(),
                      "primaryMetric": definition["objective"]["primary_metric"]},
        "limits": _limits(definition["limits"]),
        "earlyTermination": _policy(definition.get("early_termination")),
        "services": {"Studio": {"jobServiceType": "Studio", "endpoint": studio,
                                "status": None}},
    }
    created = (run.get("creation_context") or {}).get("created_at")
    return resource(scope, ("jobs", run["name"]), props, created_at=created,
                    modified_at=run.get("end_time") or run.get("start_time"))


def _expression(parameter: dict) -> list:
    """HyperDrive's expression of a parameter: ["choice", [[1, 2]]], ["uniform", [0, 1]]."""
    kind = parameter["kind"]
    arguments = [parameter[f] for f in PARAMETER_FIELDS[kind]]
    return [kind, arguments]


def _sampling(sampling: dict) -> dict:
    shaped = {"samplingAlgorithmType": _ALGORITHMS[sampling["algorithm"]]}
    if sampling["algorithm"] == "random":
        shaped.update(seed=sampling["seed"], rule=sampling.get("rule") or "random")
    return shaped


def _limits(limits: dict) -> dict:
    shaped = {"jobLimitsType": "Sweep", "maxTotalTrials": limits["max_total_trials"],
              "maxConcurrentTrials": limits["max_concurrent_trials"]}
    for key, rest in (("timeout_s", "timeout"), ("trial_timeout_s", "trialTimeout")):
        if limits.get(key):
            shaped[rest] = f"PT{int(limits[key])}S"
    return shaped


def _policy(policy: dict | None) -> dict | None:
    if not policy:
        return None
    shaped = {"policyType": _POLICIES[policy["kind"]],
              "evaluationInterval": policy.get("evaluation_interval", 1),
              "delayEvaluation": policy.get("delay_evaluation", 0)}
    for key, rest in (("slack_factor", "slackFactor"), ("slack_amount", "slackAmount"),
                      ("truncation_percentage", "truncationPercentage")):
        if policy.get(key) is not None:
            shaped[rest] = policy[key]
    return shaped
