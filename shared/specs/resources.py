"""Compute pools, endpoints and deployments."""
from __future__ import annotations

from typing import Any

from shared.domain.errors import InvalidSpec
from shared.specs.paths import SpecContext
from shared.specs.refs import check_name, parse_asset_ref
from shared.specs.types import ComputeSpec, DeploymentSpec, EndpointSpec

_NO_CODE = "mlcycle deploys registered models without code (no-code deployment)"


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
    """Refuse what a no-code deployment cannot honour, before the schema reads it
    (an inline model would also make azure-ai-ml read its local files).

    Raises:
        InvalidSpec: an inline model ("register the model first"), a model reference
            in another form, a scoring script or environment, or an unsafe name.
    """
    model = doc.get("model")
    if isinstance(model, dict):
        raise InvalidSpec(
            "model: an inline model is not supported; register the model first and refer to it"
            " as azureml:<name>:<version> or azureml:<name>@latest"
        )
    if model is None:
        raise InvalidSpec("model: required field missing")
    try:
        parse_asset_ref(str(model))
    except InvalidSpec as e:
        raise InvalidSpec(f"model: {e}") from e
    for field in ("code_configuration", "environment"):
        if field in doc:
            raise InvalidSpec(f"{field} is not supported: {_NO_CODE}; remove it")
    check_name(doc.get("name"), "name")
    check_name(doc.get("endpoint_name"), "endpoint_name")
    return doc


def to_deployment_spec(doc: dict, deployment: Any, ctx: SpecContext) -> DeploymentSpec:
    """Convert a validated managed online deployment spec.

    Raises:
        InvalidSpec: instance_count below 1.
    """
    count = deployment.instance_count
    count = 1 if count is None else count
    if count < 1:
        raise InvalidSpec(f"instance_count must be at least 1, not {count}")
    return DeploymentSpec(
        source=ctx.source,
        name=deployment.name,
        endpoint_name=deployment.endpoint_name,
        model=parse_asset_ref(doc["model"]),
        instance_type=deployment.instance_type,
        instance_count=count,
        description=doc.get("description") or "",
        tags=dict(doc.get("tags") or {}),
    )
