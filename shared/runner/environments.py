"""Job environments: what a run's processes run on, decided at intake.

Azure ML's kinds, each with an honest local meaning:

- a curated name (`azureml:AzureML-sklearn-1.0@latest`): a virtual environment of its
  own over the host's packages (`shared.runner.host_layer`), so that a command's
  `pip install` lands there and never in the service's interpreter;
- an environment with a conda file (inline, `file:`, or registered with `mlcycle
  environment create`): a clean virtual environment holding the conda file's pip part,
  built once and cached by the hash of that part (`shared.runner.venvs`). Conda itself
  is not used, so packages only conda could install are refused;
- an environment with an image only: the image is recorded for the Batch executor;
  locally the job runs as a curated one does, over the host's packages, with a warning
  in its log.
"""
from __future__ import annotations

import hashlib
import json
import re
import shlex
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from shared.domain.errors import InvalidSpec
from shared.ports import LaunchPlan

HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
_CONDA_NAME = re.compile(r"(?:[^:\s]+::)?([A-Za-z0-9_.\-]+)")  # "conda-forge::numpy=1.2"
_PYTHON_PIN = re.compile(r"python\s*={1,2}\s*(\d+)\.(\d+)")
_REQUIREMENT_FILE = re.compile(r"(?:-r|--requirement)(?:\s*=?\s*)(\S.*)")
_MAX_NESTING = 10


@dataclass(frozen=True)
class EnvironmentPlan:
    """How a run's environment is provided.

    kind: "curated" or "image" (locally both a venv over the host's packages, cached
    per curated name or per image), or "venv" (a clean cached venv of `pip`, keyed by
    `hash`). `image` is kept whatever the kind, for an executor that runs images.
    `name` is the curated environment's name, or the registered environment's
    `name:version` the plan was made from. `warnings` say where the local run departs
    from what the spec asked for.
    """

    kind: str
    pip: tuple[str, ...] = ()
    hash: str = ""
    image: str | None = None
    warnings: tuple[str, ...] = ()
    name: str = ""


CURATED = EnvironmentPlan("curated")
# Azure ML's curated environments are all named so; another name that is not registered
# here is more likely a typo, or an environment registered elsewhere.
_CURATED_PREFIX = "azureml-"


def resolve_environment(environment: str, image: str | None, conda: dict | None, *,
                        host_python: str = HOST_PYTHON) -> EnvironmentPlan:
    """Decide a job's environment from its spec fields (pure).

    Parameters:
        environment: the curated name (`AzureML-sklearn-1.0@latest`; a registered
            environment is resolved to its definition first), or "inline".
        image: an inline environment's image, if any.
        conda: an inline environment's conda file, parsed, with `-r` files already
            inlined (see `inline_requirement_files`).
        host_python: "major.minor" of the interpreter that will build the venv.
    Raises:
        InvalidSpec: conda packages other than python and pip, a malformed conda
            file, or a `-r` line left in the pip list.
    Returns: the plan.
    """
    if environment != "inline":
        return curated(environment)
    if conda is None:
        if not image:
            raise InvalidSpec("environment: an inline environment needs an image or a conda_file")
        return EnvironmentPlan("image", image=image, warnings=(
            f"environment image {image} is not used locally: the job runs on the host's "
            f"python {host_python} and its packages, in a virtual environment of its own",))
    pip, python = conda_pip_requirements(conda)
    warnings = []
    if python and python != host_python:
        # Refusing would turn away most real conda files (Azure ML's examples pin 3.7
        # or 3.8); the venv can only be of the host's python, so say so and go on.
        warnings.append(f"the conda file asks for python {python}; locally the job runs "
                        f"on python {host_python}")
    if image:
        warnings.append(f"environment image {image} is not used locally: the job runs in a "
                        "virtual environment built from its conda file")
    return EnvironmentPlan("venv", pip, environment_hash(pip, host_python), image,
                           tuple(warnings))


def curated(reference: str) -> EnvironmentPlan:
    """The plan of a curated environment, named without its version or label (every
    version of it is the host's packages here), warning when the name is not Azure ML's
    curated kind: the job then runs on the host's packages, which may not be what its
    author registered elsewhere."""
    name = re.split(r"[@:]", reference, maxsplit=1)[0]
    if name.lower().startswith(_CURATED_PREFIX):
        return replace(CURATED, name=name)
    return replace(CURATED, name=name, warnings=(
        f"environment {reference} is not registered here (mlcycle environment create): "
        "the job runs as a curated environment does, on the host's packages",))


def conda_pip_requirements(conda: dict) -> tuple[tuple[str, ...], str | None]:
    """The pip requirements a conda file stands for, and the python "X.Y" it pins.

    A `pip` dependency becomes the pip package itself, so the environment has pip as
    the file asked. Raises InvalidSpec as `resolve_environment` does.
    """
    deps = conda.get("dependencies") or []
    if not isinstance(deps, list):
        raise InvalidSpec("environment.conda_file: dependencies must be a list")
    conda_only, pip, python, wants_pip = [], [], None, False
    for dep in deps:
        if isinstance(dep, dict):
            conda_only.extend(str(k) for k in dep if k != "pip")
            pip.extend(_pip_section(dep.get("pip", [])))
            continue
        text = str(dep).strip()
        match = _CONDA_NAME.match(text)
        name = match.group(1).lower() if match else text
        if name == "pip":
            wants_pip = True
        elif name == "python":
            pinned = _PYTHON_PIN.match(text.replace(" ", ""))
            python = f"{pinned[1]}.{pinned[2]}" if pinned else None
        else:
            conda_only.append(text)
    if conda_only:
        raise InvalidSpec("environment.conda_file: conda-only packages are not supported "
                          f"locally: {', '.join(conda_only)}; list them under pip: instead")
    return (("pip",) if wants_pip else ()) + tuple(pip), python


def _pip_section(section: object) -> list[str]:
    if not isinstance(section, list) or not all(isinstance(s, str) for s in section):
        raise InvalidSpec("environment.conda_file: pip: must be a list of requirements")
    lines = [s.strip() for s in section if s.strip()]
    for line in lines:
        if _REQUIREMENT_FILE.fullmatch(line):
            raise InvalidSpec(f"environment.conda_file: pip: '{line}' names a requirements "
                              "file that could not be read with the conda file")
    return lines


def environment_hash(pip: Sequence[str], python: str) -> str:
    """The cache key of a venv: its requirements, as written and in order (pip options
    such as --index-url are order-sensitive), and the python that builds it."""
    text = json.dumps({"pip": list(pip), "python": python}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def inline_requirement_files(conda: dict, folder: Path) -> dict:
    """The conda file with each `-r <file>` of its pip list replaced by that file's
    requirements, so the run record holds the whole specification and the launch needs
    no file from the spec's folder.

    Parameters:
        conda: the parsed conda file.
        folder: the conda file's folder; requirement files must lie in or below it.
    Raises:
        InvalidSpec: a requirements file that is missing, outside that folder, or
            nested more than ten deep.
    """
    deps = conda.get("dependencies")
    if not isinstance(deps, list):
        return conda
    inlined = [
        {**dep, "pip": _expand(dep["pip"], folder, folder.resolve(), 0)}
        if isinstance(dep, dict) and isinstance(dep.get("pip"), list) else dep
        for dep in deps]
    return {**conda, "dependencies": inlined}


def _expand(lines: list, folder: Path, top: Path, depth: int) -> list:
    expanded = []
    for line in lines:
        match = _REQUIREMENT_FILE.fullmatch(line.strip()) if isinstance(line, str) else None
        if not match:
            expanded.append(line)
            continue
        if depth >= _MAX_NESTING:
            raise InvalidSpec(f"environment.conda_file: pip: '{line}' nests requirement "
                              f"files more than {_MAX_NESTING} deep")
        path = _requirement_file(match.group(1).strip(), folder, top)
        expanded.extend(_expand(_requirement_lines(path), path.parent, top, depth + 1))
    return expanded


def _requirement_file(raw: str, folder: Path, top: Path) -> Path:
    path = (folder / raw).resolve()
    # Containment first, so that a refusal never tells whether an outside file exists.
    if not path.is_relative_to(top):
        raise InvalidSpec(f"environment.conda_file: pip: requirements file '{raw}' is "
                          "outside the conda file's folder")
    if not path.is_file():
        raise InvalidSpec(f"environment.conda_file: pip: requirements file '{raw}' does not "
                          "exist beside the conda file (keep it in the conda file's folder, "
                          "or in the code folder with the conda file)")
    return path


def _requirement_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace").replace("\\\n", "")
    lines = (re.sub(r"(^|\s)#.*", "", line).strip() for line in text.splitlines())
    return [line for line in lines if line]


def environment_of_spec(spec, registered: dict | None = None) -> EnvironmentPlan:
    """`resolve_environment` for a JobSpec, its requirement files read from beside its
    conda file (or its spec, for a conda file written inline).

    Parameters:
        registered: the record of the registered environment the job names, if it
            names one (its conda file was inlined when it was registered).
    """
    if registered is not None:
        plan = resolve_environment("inline", registered.get("image"),
                                   registered.get("conda_file"))
        return replace(plan, name=f"{registered['name']}:{registered['version']}")
    conda = spec.environment_conda
    if conda is not None:
        folder = (spec.environment_conda_file or spec.source).parent
        conda = inline_requirement_files(conda, folder)
    return resolve_environment(spec.environment, spec.environment_image, conda)


def to_record(plan: EnvironmentPlan) -> dict:
    """The run record's `environment_spec` (warnings go to the run's own `warnings`)."""
    return {"kind": plan.kind, "pip": list(plan.pip), "hash": plan.hash, "image": plan.image,
            "name": plan.name}


def from_record(record: dict | None, warnings: Sequence[str] = ()) -> EnvironmentPlan:
    """Read back `to_record`; runs recorded before environments existed are curated."""
    if not record:
        return replace(CURATED, warnings=tuple(warnings))
    return EnvironmentPlan(record["kind"], tuple(record.get("pip") or ()),
                           record.get("hash") or "", record.get("image"), tuple(warnings),
                           record.get("name") or "")


def announce_warnings(plan: LaunchPlan, warnings: Sequence[str]) -> LaunchPlan:
    """The plan with each process's command first echoing the warnings to stderr, so they
    open every process's log, where someone reading why a run misbehaved will look."""
    if not warnings:
        return plan
    prefix = "".join(f"echo {shlex.quote('mlcycle: warning: ' + w)} >&2; " for w in warnings)
    nodes = tuple(
        replace(node, processes=tuple(replace(p, command=prefix + p.command)
                                      for p in node.processes))
        for node in plan.nodes)
    return replace(plan, nodes=nodes)
