"""Helpers of the spec tests: the checked-in spec folders and writing and refusing specs."""
from __future__ import annotations

from pathlib import Path

import pytest

from shared.domain.errors import InvalidSpec
from shared.specs import load_spec

SPECS = Path(__file__).parent / "specs"
JOB = SPECS / "digits" / "job.yml"
MINIMAL_JOB = "command: python train.py\nenvironment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def refusal(path: Path, **kw) -> str:
    with pytest.raises(InvalidSpec) as caught:
        load_spec(path, **kw)
    return str(caught.value)
