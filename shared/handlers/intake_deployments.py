"""Accepting a deployment spec: no-code (a registered model's ONNX conversion) or with a
scoring script (`code_configuration`), whose code is snapshotted, whose environment is
resolved as a job's is, and whose inline model (`model: {path}`) is registered first,
anonymously as Azure ML does, through model-register like any other model."""
from __future__ import annotations

import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from shared.domain.errors import InvalidSpec, NotFound
from shared.domain.messages import DeployModel, Envelope
from shared.handlers.intake_assets import registered_environment, submit_model
from shared.handlers.uploads import upload_code, upload_path
from shared.ports import BlobStore, Bus, Clock, Record, Registry
from shared.runner.environments import HOST_PYTHON, EnvironmentPlan, environment_of_spec, to_record
from shared.specs.types import AssetRef, DeploymentSpec, ModelSpec

ANONYMOUS_VERSION = "1"
_CONDA_NAME = re.compile(r"(?:[^:\s]+::)?([A-Za-z0-9_.\-]+)")


def submit_deployment(spec: DeploymentSpec, *, key: str, blobs: BlobStore, registry: Registry,
                      bus: Bus, clock: Clock, all_traffic: bool = False,
                      endpoint: str | None = None, **_) -> dict:
    """Create or update a deployment as Creating and hand it to the deploy queue.

    Parameters:
        key: idempotency key; the same key again returns what the first made.
        all_traffic: route all of the endpoint's traffic to it once it serves.
        endpoint: the endpoint named by the route, over the spec's endpoint_name.
    Raises:
        NotFound: the endpoint does not exist.
        InvalidSpec: the model is not registered (or not that version), or the
            environment cannot be had here; nothing is uploaded then.
    Returns:
        The deployment's record body.
    """
    endpoint = endpoint or spec.endpoint_name
    if registry.get("endpoint", endpoint) is None:
        raise NotFound(f"endpoint {endpoint!r} does not exist; create it first")
    name = f"{endpoint}/{spec.name}"
    existing = registry.get("deployment", name)
    if existing is not None and existing.body.get("intake_key") == key:
        # The same submission again (an HTTP retry): setting it back to Creating would
        # leave it there, since its DeployModel is a duplicate the bus drops.
        return existing.body
    if spec.model is not None:
        _check_registered(spec.model, registry)
    environment = deployment_environment(spec, registry)  # refused before any upload
    code = None
    if spec.code is not None:
        code = {"snapshot": upload_code(spec.code, blobs), "scoring_script": spec.scoring_script}
    model = spec.model or register_inline_model(spec, key=key, blobs=blobs, registry=registry,
                                                bus=bus, clock=clock)
    body = dict(existing.body) if existing else {"model_version": None,
                                                 "created_at": clock.now()}
    body.update(name=spec.name, endpoint=endpoint, model=model.name,
                model_ref={"version": model.version, "label": model.label},
                state="Creating", error=None, all_traffic=all_traffic,
                instance_type=spec.instance_type, instance_count=spec.instance_count,
                code=code, environment=to_record(environment) if environment else None,
                environment_variables=dict(spec.environment_variables),
                request_timeout_ms=spec.request_timeout_ms,
                warnings=[*spec.warnings, *(environment.warnings if environment else ())],
                intake_key=key)
    body = registry.put(Record("deployment", name, "", body)).body
    bus.publish(Envelope(DeployModel(endpoint, spec.name), id=f"deploy-{name}-{key}",
                         correlation_id=endpoint))
    return body


def _check_registered(ref: AssetRef, registry: Registry) -> None:
    if not registry.list("model", ref.name):
        raise InvalidSpec(f"model {ref.name!r} is not registered; register it first "
                          "(mlcycle model create)")
    if ref.version and registry.get("model", ref.name, str(ref.version)) is None:
        # Refused here: the deploy handler would dead-letter it and leave it Creating.
        raise InvalidSpec(f"model {ref.name}:{ref.version} is not registered")


def deployment_environment(spec: DeploymentSpec, registry: Registry) -> EnvironmentPlan | None:
    """What a scoring script runs on, resolved as a job's environment is; None for a
    no-code deployment.

    A conda file that lists conda packages (Azure ML's own deployment samples list
    numpy and scikit-learn so) cannot be built here, where conda is not used: such a
    deployment runs as an image-only environment does, on the host's python and its
    packages, and says so in its warnings. A job refuses such a file instead; a
    scoring script needs little beyond what the host has, and nothing it runs installs
    packages into the host.

    Raises:
        InvalidSpec: a registered environment version that does not exist, or a conda
            file that is malformed.
    """
    if spec.code is None:
        return None
    registered = registered_environment(spec.environment, registry)
    conda = spec.environment_conda if registered is None else registered.get("conda_file")
    conda_only = _conda_packages(conda)
    if conda_only:
        return EnvironmentPlan("image", image=spec.environment_image, warnings=(
            f"environment.conda_file: {', '.join(conda_only)} are conda packages, which are "
            f"not installed here (conda is not used): the deployment runs on the host's "
            f"python {HOST_PYTHON} and its packages, without the conda file's pip section",))
    return environment_of_spec(spec, registered)


def _conda_packages(conda: dict | None) -> list[str]:
    """The conda file's dependencies other than python, pip and its pip section."""
    deps = conda.get("dependencies") if isinstance(conda, dict) else None
    if not isinstance(deps, list):
        return []  # none, or malformed: environment_of_spec names the problem
    found = []
    for dep in deps:
        if isinstance(dep, dict):
            continue
        match = _CONDA_NAME.match(str(dep).strip())
        if match and match.group(1).lower() not in ("python", "pip"):
            found.append(str(dep).strip())
    return found


def register_inline_model(spec: DeploymentSpec, *, key: str, blobs: BlobStore,
                          registry: Registry, bus: Bus, clock: Clock) -> AssetRef:
    """Register a deployment's inline model, as Azure ML does: named after its content,
    version 1 (or under the name and version the spec gives), so that deploying the
    same files again reuses that version. A folder keeps its own name inside the
    version (`<AZUREML_MODEL_DIR>/model/...` for `path: ./model/`), as in Azure ML.

    Raises:
        InvalidSpec: the name and version given are registered with other files.
    """
    with _as_uploaded(spec.model_path) as path:
        source, _ = upload_path(path, blobs)
        name = spec.model_name or source.split("/")[1]  # uploads/<sha256>/...
        version = spec.model_version or (None if spec.model_name else ANONYMOUS_VERSION)
        reused = _same_model(registry, name, version, source)
        if reused is not None:
            return reused
        model = ModelSpec(source=spec.source, name=name, version=version, type="custom_model",
                          path=path, description=f"the inline model of deployment "
                                                 f"{spec.endpoint_name}/{spec.name}")
        try:
            body = submit_model(model, key=f"{key}-model", blobs=blobs, registry=registry,
                                bus=bus, clock=clock)
        except InvalidSpec:
            # Another deployment of the same files registered it first.
            reused = _same_model(registry, name, version, source)
            if reused is None:
                raise
            return reused
    return AssetRef(name, body["version"])


def _same_model(registry: Registry, name: str, version: str | None,
                source: str) -> AssetRef | None:
    found = registry.get("model", name, version) if version else None
    if found is None:
        return None
    if found.body.get("source") != source:
        raise InvalidSpec(f"model {name}:{version} is already registered with other files; "
                          "give the inline model another version")
    return AssetRef(name, version)


@contextmanager
def _as_uploaded(path: Path) -> Iterator[Path]:
    """A file as it is; a folder inside a folder of its own, so that its name is part of
    what is uploaded and registered."""
    if not path.is_dir():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="mlcycle-model-") as tmp:
        holder = Path(tmp) / "model"
        holder.mkdir()
        shutil.copytree(path, holder / path.name, symlinks=False)
        yield holder
