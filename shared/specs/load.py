"""Load a spec file: read, override, check, validate with the official schema, convert."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

from shared.domain.errors import InvalidSpec
from shared.specs import assets, environments, jobs, resources, sweeps
from shared.specs.document import (
    KINDS,
    apply_overrides,
    detect_kind,
    parse_yaml,
    read_text,
    refuse_file_references,
    schema_name,
)
from shared.specs.ignored import ignored_fields
from shared.specs.paths import SpecContext
from shared.specs.schema import validate
from shared.specs.types import DataSpec, EnvironmentSpec, JobSpec, ModelSpec, Spec, SweepSpec

Prepare = Callable[[dict, SpecContext], dict]
Convert = Callable[[dict, Any, SpecContext], Spec]

# Per kind: checks made before the schema (and that keep it from reading outside
# files), then conversion of the validated entity.
_STEPS: dict[str, tuple[Prepare, Convert]] = {
    "job": (jobs.prepare_job, jobs.to_job_spec),
    "data": (assets.prepare_data, assets.to_data_spec),
    "model": (assets.prepare_model, assets.to_model_spec),
    "compute": (resources.prepare_compute, resources.to_compute_spec),
    "endpoint": (resources.prepare_endpoint, resources.to_endpoint_spec),
    "deployment": (resources.prepare_deployment, resources.to_deployment_spec),
    "environment": (environments.prepare_environment, environments.to_environment_spec),
}


def load_spec(
    path: Path, *, root: Path | None = None, overrides: Sequence[str] = (), kind: str | None = None
) -> Spec:
    """Load an Azure ML v2 spec file into mlcycle's own types.

    Parameters:
        path: the spec file; its local paths are relative to its folder.
        root: for specs from outside (drop zone, CLI bundle), the folder that the spec
            and every local path it names must stay inside, symlinks followed.
        overrides: `az ml --set` style `key.sub=value` items, applied in order.
        kind: "job", "data", "model", "compute", "endpoint", "deployment" or
            "environment" when the caller knows it (`mlcycle job create`); otherwise
            told from the file.

    Raises:
        InvalidSpec: anything wrong with the file, its message starting with the
            file's name (relative to `root` when given).

    Returns:
        A JobSpec (a command job), SweepSpec (a sweep job), DataSpec, ModelSpec,
        ComputeSpec, EndpointSpec, DeploymentSpec or EnvironmentSpec.
    """
    path = Path(path).absolute()
    resolved_root = Path(root).resolve() if root is not None else None
    try:
        return _load(path, resolved_root, overrides, kind)
    except InvalidSpec as e:
        raise InvalidSpec(f"{_label(path, root)}: {e}") from e


def referenced_paths(spec: Spec) -> list[Path]:
    """The local files and folders a spec needs beside it: what the CLI bundles.

    Returns:
        Absolute paths, without duplicates: a job's code folder, local inputs and
        conda file; a data or model spec's local path; an environment's conda file.
        Empty for other kinds.
    """
    found: list[Path | None] = []
    if isinstance(spec, SweepSpec):
        spec = spec.trial  # its trials' code, inputs and conda file
    if isinstance(spec, JobSpec):
        found = [spec.code, *(i.path for i in spec.inputs.values()), spec.environment_conda_file]
    elif isinstance(spec, (DataSpec, ModelSpec)) and isinstance(spec.path, Path):
        found = [spec.path]
    elif isinstance(spec, EnvironmentSpec):
        found = [spec.conda_file]
    return list(dict.fromkeys(p for p in found if p is not None))


def _load(path: Path, root: Path | None, overrides: Sequence[str], kind: str | None) -> Spec:
    source = path.resolve()
    if root is not None and not source.is_relative_to(root):
        raise InvalidSpec("the spec file is outside its root folder")
    doc = parse_yaml(read_text(source))
    if not isinstance(doc, dict):
        raise InvalidSpec(f"a spec is a mapping of fields, not {_a(doc)}")
    doc = apply_overrides(doc, overrides)
    kind = _kind(doc, kind)
    refuse_file_references(doc, kind)
    ctx = SpecContext(source=source, root=root)
    prepare, convert = _STEPS[kind]
    if kind == "job" and sweeps.is_sweep(doc):
        prepare, convert = sweeps.prepare_sweep, sweeps.to_sweep_spec
    entity = validate(kind, prepare(doc, ctx), source)
    spec = convert(doc, entity, ctx)
    warnings = ignored_fields(kind, doc)
    return replace(spec, warnings=warnings) if warnings else spec


def _kind(doc: dict, wanted: str | None) -> str:
    if wanted is not None and wanted not in KINDS:
        raise InvalidSpec(f"unknown spec kind '{wanted}'; expected one of {', '.join(KINDS)}")
    found = detect_kind(doc)
    if wanted and found and found != wanted:
        raise InvalidSpec(f"expected a {wanted} spec, but this is a {found} spec")
    if wanted or found:
        return wanted or found
    schema = schema_name(doc)
    if schema:
        raise InvalidSpec(f"unknown spec kind: {doc['$schema']} is not a spec mlcycle reads")
    raise InvalidSpec(
        "unknown spec kind: not an Azure ML job, data, model, compute, endpoint, deployment"
        " or environment spec"
        " (give $schema)"
    )


def _label(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(Path(root).absolute()).as_posix()
        except ValueError:
            pass
    return path.name


def _a(value: object) -> str:
    names = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return "an empty file" if value is None else names.get(type(value), type(value).__name__)
