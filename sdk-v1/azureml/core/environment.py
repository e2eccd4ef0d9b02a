"""Environment: what a run's python runs on, and the Azure ML v2 environment it becomes.

Locally every v1 environment but a curated one runs as mlcycle runs an image: in a
virtual environment of its own over the host's packages, where this distribution is
installed too (so `from azureml.core import Run` works inside the job). Its conda and pip
packages are pip-installed there when the job starts, unless already present; the
`azureml-*` packages that v1 conda files list (azureml-defaults, azureml-core,
azureml-dataprep...) are skipped, as this distribution stands in for them."""
from __future__ import annotations

import copy
import json
import os
import shlex
from pathlib import Path
from typing import Any

from azureml.core.conda_dependencies import CondaDependencies, _name
from azureml.exceptions import UserErrorException

DEFAULT_CPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"
DEFAULT_GPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.1-cudnn8-ubuntu20.04"
_DEFINITION = "azureml_environment.json"
_CONDA_FILE = "conda_dependencies.yml"


class PythonSection:
    """The python side of an environment: conda packages, or a python the user manages."""

    def __init__(self) -> None:
        self.user_managed_dependencies = False
        self.interpreter_path = "python"
        self.conda_dependencies = CondaDependencies()
        self.conda_dependencies_file: str | None = None
        self.base_conda_environment: str | None = None


class DockerSection:
    """The image an environment names (kept for Azure Batch; local jobs run without it)."""

    def __init__(self) -> None:
        self.enabled = False
        self.base_image: str | None = DEFAULT_CPU_IMAGE
        self.base_dockerfile: str | None = None
        self.shm_size = "2g"
        self.arguments: list[str] = []


class Environment:
    """A named environment: python section, docker section, environment variables.

    Parameters:
        name: the environment's name.
    """

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.name = name
        self.version: str | None = None
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables: dict[str, str] = {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"}
        self.inferencing_stack_version: str | None = None
        self._curated = False

    @staticmethod
    def get(workspace: Any, name: str, version: str | None = None,
            label: str | None = None) -> "Environment":
        """The environment registered as name (the newest version, or version); a name of
        Azure ML's curated kind (`AzureML-...`) that is not registered is the curated
        environment, which runs on the host's packages.

        Raises:
            UserErrorException: the name is neither registered nor curated.
        """
        from azureml.core._connection import quote

        path = f"/api/environments/{quote(name)}/versions/{quote(version or 'latest')}"
        record = workspace._conn.get_or_none(path)
        if record is not None:
            return _from_record(record)
        if version is None and name.lower().startswith("azureml-"):
            env = Environment(name)
            env._curated, env.docker.base_image = True, None
            env.environment_variables = {}
            return env
        wanted = f"{name}:{version}" if version else name
        raise UserErrorException(f"Environment {wanted} was not found in workspace "
                                 f"{workspace.name}, nor is it a curated environment")

    @staticmethod
    def list(workspace: Any) -> dict:
        """Registered environments by name (their newest versions)."""
        return workspace.environments

    @staticmethod
    def from_conda_specification(name: str, file_path: str) -> "Environment":
        """An environment of the conda YAML file at file_path."""
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(file_path)
        return env

    @staticmethod
    def from_pip_requirements(name: str, file_path: str,
                              pip_version: str | None = None) -> "Environment":
        """An environment of the requirements in a pip requirements file."""
        try:
            lines = Path(file_path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise UserErrorException(f"cannot read {file_path}: {exc.strerror or exc}") from None
        env = Environment(name)
        for line in (ln.split("#", 1)[0].strip() for ln in lines):
            if line:
                env.python.conda_dependencies.add_pip_package(line)
        return env

    @staticmethod
    def from_docker_image(name: str, image: str, container_registry: Any = None,
                          conda_specification: str | None = None,
                          pip_requirements: str | None = None) -> "Environment":
        """An environment of an image, and optionally a conda file or requirements."""
        env = (Environment.from_conda_specification(name, conda_specification)
               if conda_specification else Environment.from_pip_requirements(name, pip_requirements)
               if pip_requirements else Environment(name))
        env.docker.base_image = image
        return env

    def clone(self, new_name: str) -> "Environment":
        """A copy under new_name, not registered and not curated."""
        env = copy.deepcopy(self)
        env.name, env.version, env._curated = new_name, None, False
        return env

    def register(self, workspace: Any) -> "Environment":
        """Register this definition as a new version of its name (mlcycle environment
        create); returns the registered environment."""
        import tempfile

        spec: dict[str, Any] = {"$schema": "https://azuremlschemas.azureedge.net/latest/"
                                           "environment.schema.json",
                                "name": self.name, "image": self.docker.base_image or
                                DEFAULT_CPU_IMAGE}
        with tempfile.TemporaryDirectory(prefix="azureml-v1-env-") as tmp:
            if not self.python.user_managed_dependencies:
                spec["conda_file"] = self.python.conda_dependencies.save(
                    os.path.join(tmp, _CONDA_FILE))
            record = workspace._conn.submit("/api/environments", spec)
        return _from_record(record)

    def save_to_directory(self, path: str, overwrite: bool = False) -> None:
        """Write the definition (azureml_environment.json, conda_dependencies.yml) into
        path.

        Raises:
            UserErrorException: path exists and overwrite is False.
        """
        folder = Path(path)
        if folder.exists() and not overwrite:
            raise UserErrorException(f"{path} already exists; pass overwrite=True")
        folder.mkdir(parents=True, exist_ok=True)
        definition = {"name": self.name, "version": self.version, "curated": self._curated,
                      "python": {"userManagedDependencies": self.python.user_managed_dependencies,
                                 "interpreterPath": self.python.interpreter_path},
                      "docker": {"enabled": self.docker.enabled,
                                 "baseImage": self.docker.base_image},
                      "environmentVariables": self.environment_variables}
        (folder / _DEFINITION).write_text(json.dumps(definition, indent=2), encoding="utf-8")
        if not self._curated:
            self.python.conda_dependencies.save(str(folder / _CONDA_FILE))

    @staticmethod
    def load_from_directory(path: str) -> "Environment":
        """Read back what save_to_directory wrote."""
        folder = Path(path)
        try:
            definition = json.loads((folder / _DEFINITION).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserErrorException(f"cannot read {folder / _DEFINITION}: {exc}") from None
        env = Environment(definition["name"])
        env.version, env._curated = definition.get("version"), bool(definition.get("curated"))
        env.python.user_managed_dependencies = definition["python"]["userManagedDependencies"]
        env.python.interpreter_path = definition["python"]["interpreterPath"]
        env.docker.enabled = definition["docker"]["enabled"]
        env.docker.base_image = definition["docker"]["baseImage"]
        env.environment_variables = definition.get("environmentVariables") or {}
        if (folder / _CONDA_FILE).is_file():
            env.python.conda_dependencies = CondaDependencies(str(folder / _CONDA_FILE))
        return env

    def _job(self) -> tuple[str | dict, str, list[str]]:
        """(the v2 job's `environment`, the python that runs the script, the packages to
        pip-install before it)."""
        if self.python.user_managed_dependencies:
            python = self.python.interpreter_path or "python"
            image = {"image": self.docker.base_image or DEFAULT_CPU_IMAGE}
            return image, python if python == "python" else shlex.quote(python), []
        wanted = [r for r in self.python.conda_dependencies._requirements()
                  if not _name(r).replace("_", "-").startswith("azureml-")]
        if self._curated:  # its own packages are the host's; what was added is installed
            return f"azureml:{self.name}@latest", "python", wanted
        return {"image": self.docker.base_image or DEFAULT_CPU_IMAGE}, "python", wanted

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r}, version={self.version!r})"


def _from_record(record: dict) -> Environment:
    env = Environment(record["name"])
    env.version = str(record["version"])
    env.docker.base_image = record.get("image") or DEFAULT_CPU_IMAGE
    env.environment_variables = {}
    if record.get("conda_file"):
        env.python.conda_dependencies = CondaDependencies(
            _underlying_structure=record["conda_file"])
    return env
