"""Environments: the Azure ML v2 environment spec (an asset: `mlcycle environment
create`), and the `environment:` field of a job or deployment, which names a registered
or curated environment (`azureml:<name>:<version>`, `azureml:<name>@latest`), defines
one inline, or reads one from a file (`file:<env.yml>`).

A conda file (`conda_file: conda.yml` or `conda_file: file:conda.yml`) is read relative
to the file that names it, and like every local path stays inside the spec's root.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.domain.errors import InvalidSpec
from shared.specs.document import parse_yaml, read_text
from shared.specs.paths import SpecContext
from shared.specs.refs import check_name, environment_name
from shared.specs.types import EnvironmentSpec

FILE_PREFIX = "file:"
# What names an environment asset rather than defines it: a job's file-referenced
# environment is anonymous, as in Azure ML.
_ASSET_FIELDS = ("$schema", "name", "version")
_NO_BUILD = ("build (a Docker build context) is not supported: no image is built here; "
             "give an image, and a conda_file for the pip packages")


@dataclass(frozen=True)
class Definition:
    """What defines an environment: its image and its conda file, parsed, with the path
    it was read from (None for a conda file written inline)."""

    image: str | None
    conda: dict | None
    conda_file: Path | None


def prepare_environment(doc: dict, ctx: SpecContext) -> dict:
    """Check an environment spec before the schema reads it (the schema would read the
    conda file unchecked, and takes `file:conda.yml` for a file of that name).

    Raises:
        InvalidSpec: no name, an unsafe name or version, a build context, neither an
            image nor a conda file, or a conda file that is missing, outside the root
            or not a conda environment.
    Returns:
        The document to validate: its conda_file without a `file:` prefix.
    """
    if doc.get("name") is None:
        raise InvalidSpec("name: required field missing")
    check_name(doc["name"], "name")
    check_name(doc.get("version"), "version")
    definition = _definition(doc, ctx, "")
    if not definition.image and definition.conda is None:
        raise InvalidSpec("an environment needs an image or a conda_file")
    return _for_schema(doc, definition)


def to_environment_spec(doc: dict, environment: Any, ctx: SpecContext) -> EnvironmentSpec:
    """Convert a validated environment spec (`environment` is azure-ai-ml's entity)."""
    definition = _definition(doc, ctx, "")
    version = doc.get("version")
    return EnvironmentSpec(
        source=ctx.source,
        name=environment.name,
        version=None if version is None else str(version),
        image=definition.image,
        conda=definition.conda,
        conda_file=definition.conda_file,
        description=doc.get("description") or "",
        tags=dict(doc.get("tags") or {}),
    )


def check_environment(environment: Any, ctx: SpecContext) -> None:
    """Check a job's or deployment's `environment:` field, and the files it names.

    Raises:
        InvalidSpec: a reference that is not `azureml:...` or `file:...`, a build
            context, or an environment or conda file that is missing, outside the root
            or unreadable.
    """
    if isinstance(environment, str) and not environment.startswith(("azureml:", FILE_PREFIX)):
        raise InvalidSpec(
            f"environment '{environment}' must be azureml:<name>@latest, azureml:<name>:<version>,"
            " file:<environment spec> or an inline environment with an image"
        )
    definition_of(environment, ctx)


def schema_environment(environment: Any, ctx: SpecContext) -> Any:
    """The `environment:` field as the job schema should read it: a `file:` reference
    replaced by the environment it names (its conda file by its checked, absolute
    path), and a conda file's `file:` prefix dropped."""
    if isinstance(environment, str) and environment.startswith(FILE_PREFIX):
        doc, env_ctx = _environment_file(environment, ctx)
        definition = _definition(doc, env_ctx, f"environment '{environment}': ")
        inline = {k: v for k, v in doc.items() if k not in _ASSET_FIELDS}
        return _for_schema(inline, definition)
    if isinstance(environment, dict):
        return _for_schema(environment, definition_of(environment, ctx))
    return environment


def definition_of(environment: Any, ctx: SpecContext) -> Definition | None:
    """The definition of an inline or `file:` environment; None for a reference."""
    if isinstance(environment, dict):
        return _definition(environment, ctx, "environment.")
    if isinstance(environment, str) and environment.startswith(FILE_PREFIX):
        doc, env_ctx = _environment_file(environment, ctx)
        return _definition(doc, env_ctx, f"environment '{environment}': ")
    return None


def inline_environment(environment: Any, ctx: SpecContext) -> tuple[str | None, dict | None, Path | None]:
    """(image, conda file parsed, conda file's path) of an inline or `file:`
    environment; all None for a reference."""
    definition = definition_of(environment, ctx)
    return (None, None, None) if definition is None else (
        definition.image, definition.conda, definition.conda_file)


def environment_reference(environment: Any) -> str:
    """"inline" for an environment the spec defines (inline or `file:`), else the name it
    refers to (`AzureML-sklearn-1.0@latest`, `my-env:2`)."""
    if isinstance(environment, dict) or str(environment).startswith(FILE_PREFIX):
        return "inline"
    return environment_name(environment)


def _environment_file(reference: str, ctx: SpecContext) -> tuple[dict, SpecContext]:
    raw = reference[len(FILE_PREFIX):]
    path = ctx.local(raw, "environment file")
    doc = parse_yaml(read_text(path, f"environment '{reference}'"))
    if not isinstance(doc, dict):
        raise InvalidSpec(f"environment '{reference}' is not an environment spec (a mapping)")
    return doc, SpecContext(source=path, root=ctx.root)


def _definition(doc: dict, ctx: SpecContext, where: str) -> Definition:
    if "build" in doc:
        raise InvalidSpec(f"{where}{_NO_BUILD}")
    image = doc.get("image")
    conda = _without_prefix(doc.get("conda_file"))
    if not isinstance(conda, str):
        return Definition(image, conda if isinstance(conda, dict) else None, None)
    path = ctx.local(conda, f"{where}conda_file")
    content = parse_yaml(read_text(path, f"{where}conda_file '{conda}'"))
    if not isinstance(content, dict):
        raise InvalidSpec(f"{where}conda_file '{conda}' is not a conda environment (a mapping)")
    return Definition(image, content, path)


def _for_schema(doc: dict, definition: Definition) -> dict:
    if definition.conda_file is None:
        return doc
    return {**doc, "conda_file": str(definition.conda_file)}


def _without_prefix(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FILE_PREFIX):
        return value[len(FILE_PREFIX):]
    return value
