"""The Azure ML v2 command job a v1 ScriptRunConfig stands for: code, command, environment,
compute, resources, distribution, inputs. Submitted as `mlcycle job create -f` submits."""
from __future__ import annotations

import json
import numbers
import os
import shlex
from contextlib import ExitStack
from typing import Any

from azureml.core._connection import absolute
from azureml.data.dataset_consumption_config import DatasetConsumptionConfig
from azureml.data.file_dataset import FileDataset
from azureml.exceptions import UserErrorException

SCHEMA = "https://azuremlschemas.azureedge.net/latest/commandJob.schema.json"
INPUT_NAMES = "MLCYCLE_V1_INPUTS"  # {v1 name: v2 input name}, for Run.input_datasets


class Verbatim(str):
    """A piece of command line kept as written, unquoted: a sweep trial's
    `${{search_space.x}}`, which each trial replaces with its value, quoted."""


def command_job(config: Any, experiment_name: str, tags: dict | None,
                stack: ExitStack) -> dict:
    """The v2 spec of config; local dataset folders live as long as stack.

    Raises:
        UserErrorException: the source folder or the script is missing, or an argument
            is of a kind a command line cannot hold.
    """
    from azureml.core.environment import Environment

    run_config = config.run_config
    source = absolute(config.source_directory or ".")
    if not os.path.isdir(source):
        raise UserErrorException(f"source_directory {config.source_directory} does not exist")
    if config.script and not os.path.isfile(os.path.join(source, config.script)):
        raise UserErrorException(f"script {config.script} is not in source_directory {source}")
    environment, python, packages = (run_config.environment or Environment("default"))._job()
    inputs = _Inputs(stack)
    args = [inputs.argument(a) for a in config.arguments]
    for consumed in run_config.data.values():
        inputs.add(consumed)
    if config.command is not None:
        command = config.command if isinstance(config.command, str) else " ".join(
            inputs.argument(part, quoted=False) for part in config.command)
        command = " ".join([command, *args])
    else:
        command = " ".join([python, shlex.quote(config.script), *args])
    if packages:
        install = " ".join(shlex.quote(p) for p in packages)
        command = f"{python} -m pip install --disable-pip-version-check -q {install} && {command}"
    nodes, distribution = run_config._distribution()
    variables = {**(getattr(run_config.environment, "environment_variables", None) or {}),
                 **run_config.environment_variables}
    if inputs.renamed:
        variables[INPUT_NAMES] = json.dumps(inputs.renamed)
    spec: dict[str, Any] = {"$schema": SCHEMA, "code": source, "command": command,
                            "environment": environment, "experiment_name": experiment_name}
    target = _compute(run_config.target)
    optional = {"compute": target, "inputs": inputs.specs or None,
                "resources": {"instance_count": nodes} if nodes > 1 else None,
                "distribution": distribution,
                "environment_variables": {str(k): str(v) for k, v in variables.items()} or None,
                "limits": ({"timeout": int(run_config.max_run_duration_seconds)}
                           if run_config.max_run_duration_seconds else None),
                "tags": {str(k): str(v) for k, v in (tags or {}).items()} or None}
    spec.update({k: v for k, v in optional.items() if v is not None})
    return spec


def _compute(target: Any) -> str | None:
    name = target if isinstance(target, str) or target is None else getattr(target, "name", None)
    if not name or name == "local":
        return None  # mlcycle's own pool of this machine
    return f"azureml:{name}"


class _Inputs:
    """The job's inputs, named as v1 named them (identifiers only, as v2 wants)."""

    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack
        self.specs: dict[str, dict] = {}
        self.renamed: dict[str, str] = {}
        self._seen: dict[int, str] = {}

    def add(self, consumed: DatasetConsumptionConfig) -> str:
        if id(consumed) in self._seen:
            return self._seen[id(consumed)]
        name, n = consumed._input_name, 2
        while name in self.specs:
            name, n = f"{consumed._input_name}_{n}", n + 1
        self.specs[name] = consumed._input(self.stack)
        if name != consumed.name:
            self.renamed[consumed.name] = name
        self._seen[id(consumed)] = name
        return name

    def argument(self, value: Any, quoted: bool = True) -> str:
        if isinstance(value, FileDataset):
            value = value.as_mount()
        if isinstance(value, DatasetConsumptionConfig):
            return "${{inputs.%s}}" % self.add(value)
        if isinstance(value, Verbatim):
            return str(value)
        if isinstance(value, (str, numbers.Number)) or hasattr(value, "__fspath__"):
            text = str(value)
            return shlex.quote(text) if quoted else text
        raise UserErrorException(f"argument {value!r} ({type(value).__name__}) cannot be "
                                 "passed on a command line")
