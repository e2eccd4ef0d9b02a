"""Command jobs (`commandJob` specs): checks the schema does not make, and conversion."""
from __future__ import annotations

import re
from typing import Any

from shared.domain.errors import InvalidSpec
from shared.specs.document import schema_name
from shared.specs.environments import (check_environment, environment_reference,
                                       inline_environment, schema_environment)
from shared.specs.inputs import convert_inputs, convert_outputs, schema_inputs
from shared.specs.paths import SpecContext
from shared.specs.refs import check_name, compute_name, is_remote
from shared.specs.types import JobSpec

DISTRIBUTIONS = ("pytorch", "tensorflow", "mpi")
# How a refusal names the job types Azure ML has and mlcycle does not run.
_JOB_TYPES = {"automl": "an AutoML job", "sweep": "a sweep job", "pipeline": "a pipeline job",
              "spark": "a Spark job", "parallel": "a parallel job", "import": "an import job"}
_PLACEHOLDER = re.compile(r"\$\{\{(.*?)\}\}")
_IO_REF = re.compile(r"\s*(?P<io>inputs|outputs)\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*")


def prepare_job(doc: dict, ctx: SpecContext) -> dict:
    """Refuse what mlcycle cannot run and check local paths, before the schema sees
    the document (the schema's messages for these are unhelpful, or it would read
    files outside the root).

    Returns:
        The document to validate: typed literal inputs folded to plain values.
    """
    by_schema = {"sweepjob": "sweep", "pipelinejob": "pipeline"}.get(schema_name(doc) or "", "command")
    job_type = doc.get("type") or by_schema
    if str(job_type).lower() == "sweep" and by_schema == "command" and schema_name(doc):
        raise InvalidSpec("type 'sweep' does not match $schema; a sweep job's $schema is "
                          "sweepJob.schema.json")
    if job_type != "command" or by_schema != "command":
        raise InvalidSpec("only command and sweep jobs are supported "
                          f"(this is {_job_type(job_type)})")
    _check_distribution(doc.get("distribution"))
    resources = doc.get("resources")
    if isinstance(resources, dict):
        _check_whole(resources.get("instance_count"), "resources.instance_count")
    check_environment(doc.get("environment"), ctx)
    if "environment" in doc:
        doc = {**doc, "environment": schema_environment(doc["environment"], ctx)}
    code = doc.get("code")
    if isinstance(code, str):
        if is_remote(code):
            raise InvalidSpec(f"code '{code}' must be a local folder beside the spec")
        if not ctx.local(code, "code path").is_dir():
            raise InvalidSpec(f"code path '{code}' is a file; code must be a folder")
    check_name(doc.get("name"), "name")
    return {**doc, "inputs": schema_inputs(doc.get("inputs"), ctx)} if "inputs" in doc else doc


def to_job_spec(doc: dict, job: Any, ctx: SpecContext) -> JobSpec:
    """Convert a validated command job (`job` is azure-ai-ml's entity for `doc`).

    Raises:
        InvalidSpec: instance or process counts below 1, a non-positive timeout, or a
            `${{...}}` in the command that names no input or output of the spec.
    """
    inputs, outputs = convert_inputs(doc.get("inputs"), ctx), convert_outputs(doc.get("outputs"))
    command = doc["command"]
    _check_placeholders(command, inputs, outputs)
    instance_count = _instance_count(job)
    image, conda, conda_file = inline_environment(doc["environment"], ctx)
    return JobSpec(
        source=ctx.source,
        command=command,
        code=ctx.local(doc["code"], "code path") if doc.get("code") else None,
        environment=environment_reference(doc["environment"]),
        environment_image=image,
        environment_conda=conda,
        compute=compute_name(doc["compute"]) if doc.get("compute") else "local",
        instance_count=instance_count,
        distribution=_distribution(job.distribution, instance_count),
        timeout_s=_timeout(job),
        inputs=inputs,
        outputs=outputs,
        name=doc.get("name"),
        display_name=doc.get("display_name"),
        experiment_name=doc.get("experiment_name") or _default_experiment(ctx),
        description=doc.get("description") or "",
        tags=dict(doc.get("tags") or {}),
        environment_conda_file=conda_file,
        environment_variables=_environment_variables(doc.get("environment_variables")),
    )


def _environment_variables(given: Any) -> dict[str, str]:
    if not isinstance(given, dict):
        return {}  # the schema refuses other shapes
    # YAML reads `true` and `1` as a boolean and a number; a process sees text.
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in given.items() if v is not None}


def _job_type(job_type: Any) -> str:
    text = str(job_type)
    named = _JOB_TYPES.get(text.lower())
    return named or f"{'an' if text[:1].lower() in 'aeiou' else 'a'} {text} job"


def _check_distribution(distribution: Any) -> None:
    if not isinstance(distribution, dict):
        return  # the schema names the problem
    given = distribution.get("type")
    if given is not None and str(given).lower() not in DISTRIBUTIONS:
        raise InvalidSpec(f"distribution.type: '{given}' is not one of {', '.join(DISTRIBUTIONS)}")
    for field in ("process_count_per_instance", "worker_count", "parameter_server_count"):
        _check_whole(distribution.get(field), f"distribution.{field}")


def _check_whole(value: Any, field: str) -> None:
    # The schema's integers truncate 2.5 to 2; a count the user did not write is worse
    # than a refusal.
    if isinstance(value, float) and not value.is_integer():
        raise InvalidSpec(f"{field}: {value} is not a whole number")


def _check_placeholders(command: str, inputs: dict, outputs: dict) -> None:
    defined = {"inputs": inputs, "outputs": outputs}
    for expression in _PLACEHOLDER.findall(command):
        match = _IO_REF.fullmatch(expression)
        if not match:
            raise InvalidSpec(f"command uses '${{{{{expression}}}}}', which names no input or output")
        io, name = match["io"], match["name"]
        if name not in defined[io]:
            kind = io.removesuffix("s")
            raise InvalidSpec(f"command uses ${{{{{io}.{name}}}}} but the spec defines no {kind} '{name}'")


def _instance_count(job: Any) -> int:
    count = getattr(job.resources, "instance_count", None) if job.resources else None
    count = 1 if count is None else count
    if count < 1:
        raise InvalidSpec(f"resources.instance_count must be at least 1, not {count}")
    return count


def _distribution(distribution: Any, instance_count: int) -> dict | None:
    if distribution is None:
        return None
    kind = distribution.type.lower()
    if kind == "tensorflow":
        workers = _count(distribution.worker_count, instance_count, "distribution.worker_count", 1)
        servers = _count(distribution.parameter_server_count, 0, "distribution.parameter_server_count", 0)
        return {"type": kind, "worker_count": workers, "parameter_server_count": servers}
    processes = _count(distribution.process_count_per_instance, 1, "distribution.process_count_per_instance", 1)
    return {"type": kind, "process_count_per_instance": processes}


def _count(value: int | None, default: int, field: str, least: int) -> int:
    value = default if value is None else value
    if value < least:
        raise InvalidSpec(f"{field} must be at least {least}, not {value}")
    return value


def _timeout(job: Any) -> float | None:
    timeout = getattr(job.limits, "timeout", None) if job.limits else None
    if timeout is None:
        return None
    if timeout <= 0:
        raise InvalidSpec(f"limits.timeout must be a positive number of seconds, not {timeout}")
    return float(timeout)


def _default_experiment(ctx: SpecContext) -> str:
    # az ml names the experiment after the folder; a drop zone's or a bundle's own top
    # folder is not a name the user chose.
    if (ctx.root is not None and ctx.folder == ctx.root) or not ctx.folder.name:
        return "Default"
    return ctx.folder.name
