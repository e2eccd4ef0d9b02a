"""A sweep job as azure-ai-ml sends it (ARM's JobBase with SweepJob properties, what
`ml_client.jobs.create_or_update(command(...).sweep(...))` puts) turned into the Azure
ML v2 sweep YAML it stands for, so that it goes through the one intake as a sweep spec
file would."""
from __future__ import annotations

from shared.api.replies import BadRequest
from shared.arm import job_specs
from shared.domain.sweeps import PARAMETER_FIELDS

SCHEMA = "https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json"
_POLICIES = {"bandit": "bandit", "medianstopping": "median_stopping",
             "truncationselection": "truncation_selection"}
_POLICY_FIELDS = {"evaluationInterval": "evaluation_interval",
                  "delayEvaluation": "delay_evaluation",
                  "truncationPercentage": "truncation_percentage"}
_LIMITS = {"maxTotalTrials": "max_total_trials", "maxConcurrentTrials": "max_concurrent_trials"}


def sweep_document(name: str, props: dict) -> dict:
    """The YAML document of the sweep `props` describes; its trial's code folder, when
    it has one, is `./code`. Raises BadRequest for what is not a sweep."""
    trial = props.get("trial")
    if not isinstance(trial, dict) or not trial.get("command"):
        raise BadRequest("a sweep job needs properties.trial with a command")
    command = job_specs.job_document(name, {**trial, "jobType": "Command", **{
        k: props[k] for k in ("displayName", "experimentName", "description", "tags",
                              "computeId", "inputs", "outputs") if props.get(k)}})
    doc = {"$schema": SCHEMA, "type": "sweep", "name": name,
           "trial": {k: command.pop(k) for k in ("command", "code", "environment",
                                                  "environment_variables", "resources",
                                                  "distribution") if k in command}}
    command.pop("$schema")
    command.pop("type")
    doc.update(command)
    doc["sampling_algorithm"] = _sampling(props.get("samplingAlgorithm"))
    doc["search_space"] = {key: _parameter(key, value)
                           for key, value in (props.get("searchSpace") or {}).items()}
    objective = props.get("objective") or {}
    doc["objective"] = {"goal": str(objective.get("goal") or "").lower(),
                        "primary_metric": objective.get("primaryMetric")}
    doc["limits"] = _limits(props.get("limits") or {})
    if props.get("earlyTermination"):
        doc["early_termination"] = _policy(props["earlyTermination"])
    return doc


def _sampling(given) -> dict | str:
    if not isinstance(given, dict):
        return str(given or "random").lower()
    out = {"type": str(given.get("samplingAlgorithmType") or "random").lower()}
    for key in ("seed", "rule"):
        if given.get(key) is not None:
            out[key] = given[key].lower() if key == "rule" else given[key]
    return out


def _parameter(key: str, value) -> dict:
    """["uniform", [0.1, 1.0]] (HyperDrive's expression, as the SDK sends a search
    space) as {"type": "uniform", "min_value": 0.1, "max_value": 1.0}."""
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], list)):
        raise BadRequest(f"searchSpace.{key}: {value!r} is not [kind, [arguments]]")
    kind, arguments = str(value[0]).lower(), value[1]
    fields = PARAMETER_FIELDS.get(kind)
    if fields is None or len(arguments) != len(fields):
        raise BadRequest(f"searchSpace.{key}: {value!r} is not a known distribution")
    return {"type": kind, **dict(zip(fields, arguments))}


def _limits(given: dict) -> dict:
    out = {yaml_key: given[rest_key] for rest_key, yaml_key in _LIMITS.items()
           if given.get(rest_key) is not None}
    for rest_key, yaml_key in (("timeout", "timeout"), ("trialTimeout", "trial_timeout")):
        if given.get(rest_key):
            out[yaml_key] = job_specs.duration_seconds(given[rest_key])
    return out


def _policy(given: dict) -> dict:
    kind = _POLICIES.get(str(given.get("policyType") or "").lower())
    if kind is None:
        raise BadRequest(f"earlyTermination: policy {given.get('policyType')!r} is not "
                         "Bandit, MedianStopping or TruncationSelection")
    out = {"type": kind, **{yaml_key: given[rest_key] for rest_key, yaml_key in
                            _POLICY_FIELDS.items() if given.get(rest_key) is not None}}
    if kind == "bandit":  # the SDK sends both slacks, the one not chosen as 0
        if given.get("slackAmount"):
            out["slack_amount"] = given["slackAmount"]
        else:
            out["slack_factor"] = given.get("slackFactor") or 0
    return out
