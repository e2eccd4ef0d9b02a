"""A version of a scoring-script deployment, and the interpreter its server runs on."""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from shared.runner.environments import from_record
from shared.runner.venvs import ensure_venv, interpreter_of


@dataclass(frozen=True)
class ScriptInstance:
    """One version of a scoring-script deployment. `model_path` is the blob prefix of
    the model version's files; `environment` the deployment's environment record
    (`shared.runner.environments.to_record`)."""

    endpoint: str
    deployment: str
    snapshot: str
    scoring_script: str
    model: str
    model_version: str
    model_path: str
    environment: dict = field(default_factory=dict)
    environment_variables: dict = field(default_factory=dict)

    @cached_property
    def id(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def to_record(self) -> dict:
        return {**asdict(self), "id": self.id}

    @classmethod
    def from_record(cls, record: dict) -> "ScriptInstance":
        return cls(**{k: record[k] for k in cls.__dataclass_fields__ if k in record})


def interpreter_for(environment: dict | None, envs: Path) -> str:
    """The python a scoring server runs on: its environment's venv, built as a job's
    is (`shared.runner.venvs` knows which kinds have one), else the host's own.

    Raises:
        PermanentError: the venv's build failed (pip's reason).
    """
    try:
        folder = ensure_venv(from_record(environment), envs)
    except ValueError:  # a kind without a venv of its own runs on the host's python
        return sys.executable
    return str(interpreter_of(folder))
