"""CondaDependencies: the conda specification of an environment's python section."""
from __future__ import annotations

import copy
import os
import re
from typing import Any, Iterator

from azureml.exceptions import UserErrorException

DEFAULT_PYTHON_VERSION = "3.8.13"
DEFAULT_SDK_PACKAGE = "azureml-defaults"
_NAME = re.compile(r"(?:[^:\s]+::)?([A-Za-z0-9_.\-]+)")


class CondaDependencies:
    """A conda environment file: channels, conda packages, and a pip section.

    Parameters:
        conda_dependencies_file_path: a conda YAML file to read; None: v1's default
            (python 3.8 and the `azureml-defaults` pip package).
    Raises:
        UserErrorException: the file cannot be read or is not a conda specification.
    """

    def __init__(self, conda_dependencies_file_path: str | None = None,
                 _underlying_structure: dict | None = None) -> None:
        if _underlying_structure is not None:
            self._conda_dependencies = copy.deepcopy(_underlying_structure)
        elif conda_dependencies_file_path:
            self._conda_dependencies = _load(conda_dependencies_file_path)
        else:
            self._conda_dependencies = {
                "name": "project_environment",
                "dependencies": [f"python={DEFAULT_PYTHON_VERSION}",
                                 {"pip": [DEFAULT_SDK_PACKAGE]}],
                "channels": ["anaconda", "conda-forge"]}

    @staticmethod
    def create(pip_indexurl: str | None = None, pip_packages: list[str] | None = None,
               conda_packages: list[str] | None = None,
               python_version: str = DEFAULT_PYTHON_VERSION,
               pin_sdk_version: bool = True) -> "CondaDependencies":
        """A specification of python_version, the conda and the pip packages, and
        `azureml-defaults` (which this distribution stands in for)."""
        deps = CondaDependencies()
        deps.set_python_version(python_version)
        for package in conda_packages or ():
            deps.add_conda_package(package)
        for package in pip_packages or ():
            deps.add_pip_package(package)
        if pip_indexurl:
            deps.set_pip_option(f"--index-url {pip_indexurl}")
        return deps

    @property
    def conda_packages(self) -> Iterator[str]:
        """The conda packages, python and pip included."""
        return iter(d for d in self._deps() if isinstance(d, str))

    @property
    def pip_packages(self) -> Iterator[str]:
        """The pip section's requirements (options such as --index-url left out)."""
        return iter(p for p in self._pip() if not p.startswith("-"))

    def add_conda_package(self, conda_package: str) -> None:
        """Add a conda package (replacing another spec of the same package)."""
        self.remove_conda_package(conda_package)
        self._deps().insert(len(list(self.conda_packages)), conda_package)

    def add_pip_package(self, pip_package: str) -> None:
        """Add a pip requirement (replacing another spec of the same package)."""
        self.remove_pip_package(pip_package)
        self._pip().append(pip_package)

    def remove_conda_package(self, conda_package: str) -> None:
        """Remove a conda package by name."""
        deps = self._deps()
        deps[:] = [d for d in deps if not (isinstance(d, str) and _same(d, conda_package))]

    def remove_pip_package(self, pip_package: str) -> None:
        """Remove a pip requirement by name."""
        pip = self._pip()
        pip[:] = [p for p in pip if not _same(p, pip_package)]

    def add_channel(self, channel: str) -> None:
        """Add a conda channel."""
        channels = self._conda_dependencies.setdefault("channels", [])
        if channel not in channels:
            channels.append(channel)

    def set_pip_option(self, pip_option: str) -> None:
        """Add a pip option line (`--index-url ...`, `--extra-index-url ...`)."""
        self._pip().insert(0, pip_option)

    def set_python_version(self, version: str) -> None:
        """Pin python to version."""
        self.remove_conda_package("python")
        self._deps().insert(0, f"python={version}")

    def get_python_version(self) -> str | None:
        """The python version pinned, if any."""
        for package in self.conda_packages:
            if _name(package) == "python" and "=" in package:
                return package.split("=", 1)[1].lstrip("=")
        return None

    def serialize_to_string(self) -> str:
        """The specification as conda YAML."""
        import yaml

        return yaml.safe_dump(self._conda_dependencies, sort_keys=False)

    def save(self, path: str | None = None) -> str:
        """Write the YAML to path (default: conda_dependencies.yml here); returns the path."""
        path = path or "conda_dependencies.yml"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(self.serialize_to_string())
        return path

    def save_to_file(self, base_directory: str, conda_file_path: str | None = None) -> str:
        """Write the YAML into base_directory; returns its path."""
        return self.save(os.path.join(base_directory, conda_file_path or "conda_dependencies.yml"))

    def _requirements(self) -> list[str]:
        """What a job installs with pip: the pip requirements, then the conda packages
        (other than python and pip) under their pip names."""
        conda = [_as_pip(p) for p in self.conda_packages if _name(p) not in ("python", "pip")]
        return [*self.pip_packages, *conda]

    def _deps(self) -> list:
        deps = self._conda_dependencies.setdefault("dependencies", [])
        if not isinstance(deps, list):
            raise UserErrorException("conda specification: dependencies must be a list")
        return deps

    def _pip(self) -> list:
        deps = self._deps()
        for dep in deps:
            if isinstance(dep, dict) and "pip" in dep:
                return dep["pip"]
        if "pip" not in [_name(d) for d in deps if isinstance(d, str)]:
            deps.append("pip")
        section: dict[str, Any] = {"pip": []}
        deps.append(section)
        return section["pip"]


# Conda packages whose pip distribution has another name.
_PIP_NAMES = {"pytorch": "torch", "py-xgboost": "xgboost", "pytorch-cpu": "torch",
              "tensorflow-gpu": "tensorflow"}


def _name(requirement: str) -> str:
    match = _NAME.match(requirement.strip())
    name = match.group(1) if match else requirement.strip()
    return re.split(r"[<>=!~\[;]", name, maxsplit=1)[0].lower()


def _as_pip(conda_spec: str) -> str:
    """A conda package spec as a pip requirement: `numpy=1.21` (conda's prefix match) is
    `numpy==1.21.*`, `numpy==1.21.2` stays exact, a build string is dropped."""
    name = _PIP_NAMES.get(_name(conda_spec), _name(conda_spec))
    rest = conda_spec.strip().split("::")[-1][len(_name(conda_spec)):].strip()
    if rest.startswith("=="):
        return f"{name}=={rest[2:].split('=')[0]}"
    if rest.startswith("="):
        return f"{name}=={rest[1:].split('=')[0]}.*"
    return name + rest


def _same(a: str, b: str) -> bool:
    return _name(a).replace("_", "-") == _name(b).replace("_", "-")


def _load(path: str) -> dict:
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            spec = yaml.safe_load(handle)
    except OSError as exc:
        raise UserErrorException(f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise UserErrorException(f"{path} is not YAML: {exc}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("dependencies", []), list):
        raise UserErrorException(f"{path} is not a conda specification (a mapping with a "
                                 "list of dependencies)")
    return spec
