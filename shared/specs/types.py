"""mlcycle's own view of an Azure ML v2 spec file, free of azure-ai-ml objects.

Local paths are absolute (resolved against the spec's folder); references to
registered assets and to run outputs are parsed into `AssetRef` / `RunOutputRef`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from shared.domain.sweeps import SweepDefinition

LiteralValue = Union[str, int, float, bool, None]


@dataclass(frozen=True)
class AssetRef:
    """A registered asset: `azureml:<name>:<version>` or `azureml:<name>@<label>`."""

    name: str
    version: str | None = None
    label: str | None = None

    def __str__(self) -> str:
        return f"azureml:{self.name}@{self.label}" if self.label else f"azureml:{self.name}:{self.version}"


@dataclass(frozen=True)
class RunOutputRef:
    """A file or folder a run wrote: `azureml://jobs/<run>/outputs/artifacts/paths/<path>`
    (`path` from the run's artifact root, e.g. `outputs/model`), or, with `output` set, a
    path inside one of its named outputs (`azureml://jobs/<run>/outputs/<output>/paths/<path>`)."""

    run_id: str
    path: str
    output: str = ""


@dataclass(frozen=True)
class InputSpec:
    """One job input.

    `kind` is "literal" (`value` holds it), "local" (`path`), "asset" (`asset`) or
    "uri" (`value` holds a datastore or web URI such as `azureml://datastores/...`).
    `type` is the Azure ML input type (uri_file, uri_folder, mltable, ...) or, for a
    literal, integer / number / string / boolean.
    """

    kind: str
    value: LiteralValue = None
    path: Path | None = None
    asset: AssetRef | None = None
    type: str = ""
    mode: str = ""


@dataclass(frozen=True)
class OutputSpec:
    type: str = "uri_folder"
    mode: str = "rw_mount"


@dataclass(frozen=True)
class JobSpec:
    """A command job. `environment` is a curated/registered name such as
    `AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest`, or "inline" (then
    `environment_image` and `environment_conda` hold its definition)."""

    source: Path
    command: str
    code: Path | None
    environment: str
    environment_image: str | None
    environment_conda: dict | None
    compute: str
    instance_count: int
    distribution: dict | None
    timeout_s: float | None
    inputs: dict[str, InputSpec]
    outputs: dict[str, OutputSpec]
    name: str | None
    display_name: str | None
    experiment_name: str
    description: str
    tags: dict
    # The conda file an inline environment names: the CLI must bundle it so that the
    # spec still validates on the server.
    environment_conda_file: Path | None = None
    environment_variables: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # fields accepted but not acted on (specs.ignored)


@dataclass(frozen=True)
class DataSpec:
    """A data asset; `path` is a local Path, an asset reference or a URI kept as text."""

    source: Path
    name: str
    version: str | None
    type: str
    path: Path | AssetRef | str
    description: str = ""
    tags: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelSpec:
    """A model to register. Framework details (`framework`, `framework_version`,
    `sample_input`, ...) stay in `tags` / `properties`, as written."""

    source: Path
    name: str
    version: str | None
    type: str
    path: Path | RunOutputRef | str  # str: a datastore path, azureml://datastores/...
    description: str = ""
    tags: dict = field(default_factory=dict)
    properties: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComputeSpec:
    """An AmlCompute pool."""

    source: Path
    name: str
    type: str
    size: str | None
    min_instances: int
    max_instances: int
    idle_time_before_scale_down: int
    tier: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class EndpointSpec:
    source: Path
    name: str
    auth_mode: str
    description: str = ""
    tags: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeploymentSpec:
    """A deployment of a model behind an endpoint: no-code (an ONNX-converted model), or
    with a scoring script when `code` is set (`code_configuration`: `scoring_script`
    inside `code`, run on `environment`).

    `model` is the registered model referred to; for an inline model (`model: {path}`)
    it is None and `model_path` is the local file or folder, with `model_name` /
    `model_version` when the spec names them (Azure ML registers it anonymously
    otherwise). `environment` is a curated/registered name or "inline", as in JobSpec.
    """

    source: Path
    name: str
    endpoint_name: str
    model: AssetRef | None
    instance_type: str | None
    instance_count: int
    description: str = ""
    tags: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    model_path: Path | None = None
    model_name: str | None = None
    model_version: str | None = None
    code: Path | None = None
    scoring_script: str | None = None
    environment: str | None = None
    environment_image: str | None = None
    environment_conda: dict | None = None
    environment_conda_file: Path | None = None
    environment_variables: dict = field(default_factory=dict)
    request_timeout_ms: int | None = None


@dataclass(frozen=True)
class EnvironmentSpec:
    """An environment to register: an image, a conda file (parsed, its pip section what
    a local venv is built from), or both. `conda_file` is where the conda file was read
    from, so that `-r` requirement files are read from beside it."""

    source: Path
    name: str
    version: str | None
    image: str | None
    conda: dict | None
    conda_file: Path | None = None
    description: str = ""
    tags: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class SweepSpec:
    """A sweep job: `trial` is the command each trial runs, its `command` still holding
    the `${{search_space.<name>}}` references (or `${{inputs.<name>}}` for a name of
    the search space, as azure-ai-ml writes them) that each trial fills in."""

    source: Path
    trial: JobSpec
    definition: SweepDefinition
    name: str | None
    display_name: str | None
    experiment_name: str
    description: str = ""
    tags: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


Spec = Union[JobSpec, DataSpec, ModelSpec, ComputeSpec, EndpointSpec, DeploymentSpec,
             EnvironmentSpec, SweepSpec]
