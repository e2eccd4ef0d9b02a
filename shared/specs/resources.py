"""Compute pools, endpoints and deployments."""
from __future__ import annotations

from typing import Any

from shared.domain.errors import InvalidSpec
from shared.specs.environments import (check_environment, environment_reference,
                                       inline_environment, schema_environment)
from shared.specs.paths import SpecContext
from shared.specs.refs import check_name, is_remote, parse_asset_ref
from shared.specs.types import ComputeSpec, DeploymentSpec, EndpointSpec


def prepare_compute(doc: dict, ctx: SpecContext) -> dict:
    """Refuse compute types other than AmlCompute (mlcycle scales pools, and nothing
    else) before the schema accepts them.

    Raises:
        InvalidSpec: another compute type, or an unsafe name.
    """
    kind_type = doc.get("type")
    if kind_type is None:
        raise InvalidSpec("type: required field missing (type: amlcompute)")
    if str(kind_type).lower() != "amlcompute":
        raise InvalidSpec(f"only amlcompute computes are supported, not '{kind_type}'")
    check_name(doc.get("name"), "name")
    return doc


def to_compute_spec(doc: dict, compute: Any, ctx: SpecContext) -> ComputeSpec:
    """Convert a validated AmlCompute spec; absent settings take Azure ML's defaults.

    Raises:
        InvalidSpec: negative minimum or idle time, a maximum below 1 or below the
            minimum.
    """
    least, most = compute.min_instances or 0, compute.max_instances
    most = 1 if most is None else most
    idle = compute.idle_time_before_scale_down
    idle = 120 if idle is None else idle
    if least < 0 or most < 1 or least > most:
        raise InvalidSpec(f"min_instances {least} and max_instances {most} must satisfy 0 <= min <= max, max >= 1")
    if idle < 0:
        raise InvalidSpec(f"idle_time_before_scale_down must not be negative, not {idle}")
    return ComputeSpec(
        source=ctx.source,
        name=compute.name,
        type="amlcompute",
        size=compute.size,
        min_instances=least,
        max_instances=most,
        idle_time_before_scale_down=idle,
        tier=compute.tier or "dedicated",
    )


def prepare_endpoint(doc: dict, ctx: SpecContext) -> dict:
    """Check the endpoint's name before the schema sees the document."""
    check_name(doc.get("name"), "name")
    return doc


def to_endpoint_spec(doc: dict, endpoint: Any, ctx: SpecContext) -> EndpointSpec:
    """Convert a validated managed online endpoint spec (auth_mode defaults to key)."""
    return EndpointSpec(
        source=ctx.source,
        name=endpoint.name,
        auth_mode=endpoint.auth_mode or "key",
        description=doc.get("description") or "",
        tags=dict(doc.get("tags") or {}),
    )


def prepare_deployment(doc: dict, ctx: SpecContext) -> dict:
    """Check the model, the scoring script and the environment before the schema reads
    the document: it would read an inline model's files and the conda file unchecked.

    Raises:
        InvalidSpec: a model in neither form (`azureml:<name>:<version>` / `@latest`,
            or `{path: <local file or folder>}`), a scoring script without an
            environment or outside its code folder, an environment without a scoring
            script, a Docker build context, a local path outside the spec's folder, or
            an unsafe name.
    """
    _check_model(doc.get("model"), ctx)
    code, environment = doc.get("code_configuration"), doc.get("environment")
    if code is not None:
        if environment is None:
            raise InvalidSpec("code_configuration: a scoring script needs an environment to "
                              "run on (environment: azureml:<name>@latest, or an inline "
                              "image and conda_file), as in Azure ML")
        _check_code(code, ctx)
    if environment is not None:
        if code is None:
            raise InvalidSpec("environment: a no-code deployment serves its model's ONNX "
                              "conversion and runs on no environment; remove environment, "
                              "or add code_configuration with a scoring script")
        check_environment(environment, ctx)
        doc = {**doc, "environment": schema_environment(environment, ctx)}
    check_name(doc.get("name"), "name")
    check_name(doc.get("endpoint_name"), "endpoint_name")
    return doc


def _check_model(model: Any, ctx: SpecContext) -> None:
    if model is None:
        raise InvalidSpec("model: required field missing")
    if isinstance(model, dict):
        path = model.get("path")
        if not isinstance(path, str) or not path.strip():
            raise InvalidSpec("model: an inline model needs a path (a local file or folder)")
        if is_remote(path):
            raise InvalidSpec(f"model.path '{path}': an inline model is a local file or folder;"
                              " refer to a registered model as azureml:<name>:<version>")
        ctx.local(path, "model.path")
        check_name(model.get("name"), "model.name")
        check_name(model.get("version"), "model.version")
        return
    try:
        parse_asset_ref(str(model))
    except InvalidSpec as e:
        raise InvalidSpec(f"model: {e}") from e


def _check_code(code: Any, ctx: SpecContext) -> None:
    if not isinstance(code, dict):
        return  # the schema names the problem
    folder, script = code.get("code"), code.get("scoring_script")
    if not isinstance(folder, str) or not folder.strip() or is_remote(folder):
        raise InvalidSpec("code_configuration.code: must be a local folder beside the spec")
    top = ctx.local(folder, "code_configuration.code")
    if not top.is_dir():
        raise InvalidSpec(f"code_configuration.code '{folder}' is a file; it must be a folder")
    if not isinstance(script, str) or not script.strip():
        raise InvalidSpec("code_configuration.scoring_script: required, the script's path "
                          "inside code_configuration.code")
    path = (top / script).resolve()
    if not path.is_relative_to(top):
        raise InvalidSpec(f"code_configuration.scoring_script '{script}' is outside "
                          "code_configuration.code")
    if not path.is_file():
        raise InvalidSpec(f"code_configuration.scoring_script '{script}' does not exist in "
                          f"'{folder}'")


def to_deployment_spec(doc: dict, deployment: Any, ctx: SpecContext) -> DeploymentSpec:
    """Convert a validated managed online deployment spec.

    Raises:
        InvalidSpec: instance_count below 1, or a request timeout that is not positive.
    """
    count = deployment.instance_count
    count = 1 if count is None else count
    if count < 1:
        raise InvalidSpec(f"instance_count must be at least 1, not {count}")
    model, code = doc["model"], doc.get("code_configuration")
    inline = model if isinstance(model, dict) else None
    environment = doc.get("environment")
    image, conda, conda_file = inline_environment(environment, ctx)
    return DeploymentSpec(
        source=ctx.source,
        name=deployment.name,
        endpoint_name=deployment.endpoint_name,
        model=None if inline else parse_asset_ref(model),
        instance_type=deployment.instance_type,
        instance_count=count,
        description=doc.get("description") or "",
        tags=dict(doc.get("tags") or {}),
        model_path=ctx.local(inline["path"], "model.path") if inline else None,
        model_name=str(inline["name"]) if inline and inline.get("name") else None,
        model_version=_text(inline.get("version")) if inline else None,
        code=ctx.local(code["code"], "code_configuration.code") if code else None,
        scoring_script=code["scoring_script"] if code else None,
        environment=None if environment is None else environment_reference(environment),
        environment_image=image,
        environment_conda=conda,
        environment_conda_file=conda_file,
        environment_variables={str(k): _text(v) or "" for k, v in
                               (deployment.environment_variables or {}).items()},
        request_timeout_ms=_timeout_ms(deployment),
    )


def _timeout_ms(deployment: Any) -> int | None:
    settings = deployment.request_settings
    timeout = getattr(settings, "request_timeout_ms", None) if settings else None
    if timeout is not None and timeout <= 0:
        raise InvalidSpec(f"request_settings.request_timeout_ms must be positive, not {timeout}")
    return timeout


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
