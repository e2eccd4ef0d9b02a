"""The Azure ML v2 sweep job a HyperDriveConfig stands for: its trial is the command job
of the ScriptRunConfig (or estimator) with each parameter's argument taking
`${{search_space.<name>}}`, beside the sampling, objective, limits and policy. Submitted
as `mlcycle job create -f` submits a sweep file."""
from __future__ import annotations

import copy
import json
import shlex
from contextlib import ExitStack
from typing import Any

from azureml.core._job_spec import Verbatim, command_job
from azureml.train.hyperdrive.sampling import flag

SCHEMA = "https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json"
TRIAL_FIELDS = ("code", "command", "environment", "environment_variables", "distribution",
                "resources")
# {v1 parameter name: its search space name}, so that a HyperDriveRun read back by id
# reports hyperparameters by the names they were given (v1 keeps its own in
# `_aml_system_*` tags and properties of the run too).
NAMES_TAG = "_aml_system_hyperparameter_names"


def sweep_job(config: Any, experiment_name: str, tags: dict | None,
              stack: ExitStack) -> dict:
    """The v2 sweep job of config (a HyperDriveConfig); local dataset folders live as
    long as stack."""
    sampling = config.hyperparameter_sampling
    script = copy.copy(config._script_run_config())
    script.arguments = with_hyperparameters(script.arguments, sampling._names)
    job = command_job(script, experiment_name, tags, stack)
    job.pop("$schema")
    trial = {field: job.pop(field) for field in TRIAL_FIELDS if field in job}
    trial_timeout = job.pop("limits", {}).get("timeout")
    limits = {"max_total_trials": config.max_total_runs,
              "max_concurrent_trials": config.max_concurrent_runs,
              "timeout": config.max_duration_minutes and int(config.max_duration_minutes * 60),
              "trial_timeout": trial_timeout}
    spec = {"$schema": SCHEMA, "type": "sweep", **job, "trial": trial,
            "sampling_algorithm": sampling._algorithm(),
            "search_space": sampling._search_space(),
            "objective": {"primary_metric": config.primary_metric_name,
                          "goal": config.primary_metric_goal.value.lower()},
            "limits": {k: v for k, v in limits.items() if v is not None},
            "tags": {**job.get("tags", {}), NAMES_TAG: json.dumps(sampling._names)}}
    early_termination = config.policy._spec() if config.policy is not None else None
    if early_termination is not None:
        spec["early_termination"] = early_termination
    if config._custom_run_id:
        spec["name"] = config._custom_run_id
    return spec


def with_hyperparameters(arguments: list, names: dict[str, str]) -> list:
    """The script's arguments with each parameter's value a search space reference: an
    argument the script already has (`--kernel linear`, `--kernel=linear`) takes it in
    place, as the value the sweep varies; any other is added at the end, as v1 adds it."""
    args = list(arguments)
    for key, name in names.items():
        option, reference = flag(key), "${{search_space.%s}}" % name
        spots = [i for i, a in enumerate(args) if isinstance(a, str) and a == option]
        joined = [i for i, a in enumerate(args)
                  if isinstance(a, str) and a.startswith(option + "=")]
        if spots and spots[-1] + 1 < len(args):
            args[spots[-1] + 1] = Verbatim(reference)
        elif joined:
            args[joined[-1]] = Verbatim(f"{shlex.quote(option)}={reference}")
        elif spots:
            args.append(Verbatim(reference))
        else:
            args += [option, Verbatim(reference)]
    return args
