"""Accepting data, model, compute, endpoint and environment specs (deployments:
`intake_deployments`)."""
from __future__ import annotations

from pathlib import Path

from shared.domain.datastores import datastore_blob
from shared.domain.errors import Conflict, InvalidSpec
from shared.domain.messages import Envelope, RegisterData, RegisterModel, ScalePool
from shared.domain.pools import new_pool
from shared.domain.records import latest, require, update
from shared.handlers.data_sources import data_source
from shared.handlers.uploads import upload_path
from shared.ports import BlobStore, Bus, Clock, Record, Registry
from shared.specs.ignored import gpu_warning
from shared.runner.environments import inline_requirement_files, resolve_environment
from shared.specs.refs import parse_asset_ref


def _gpu(size: str | None) -> list[str]:
    warning = gpu_warning(size, "size")
    return [warning] if warning else []


def _version(registry: Registry, kind: str, name: str, wanted: str | None, key: str) -> str:
    if not wanted:
        return registry.allocate_version(kind, name, key)
    wanted = str(wanted)
    if not registry.reserve_version(kind, name, wanted, key):
        raise InvalidSpec(f"{kind} {name} version {wanted} already exists")
    return wanted


def _create(registry: Registry, record: Record, key: str) -> dict:
    """Create once; the same key again returns what the first delivery made."""
    try:
        return registry.put(record, etag="").body
    except Conflict:
        existing = registry.get(record.kind, record.name, record.version).body
        if existing.get("intake_key") != key:
            raise InvalidSpec(f"{record.kind} {record.name} version {record.version} "
                              "already exists") from None
        return existing


def submit_data(spec, *, key: str, blobs: BlobStore, registry: Registry, bus: Bus,
                clock: Clock) -> dict:
    source = data_source(spec, blobs)  # refused before a version is taken
    version = _version(registry, "data", spec.name, spec.version, key)
    body = {"name": spec.name, "version": version, "type": spec.type, "source": source,
            "path": "", "fingerprint": None, "state": "Registering", "error": None,
            "description": spec.description, "tags": dict(spec.tags),
            "warnings": list(spec.warnings), "created_at": clock.now(), "intake_key": key}
    body = _create(registry, Record("data", spec.name, version, body), key)
    bus.publish(Envelope(RegisterData(spec.name, version, source, spec.type,
                                      spec.description, dict(spec.tags)),
                         id=f"data-{spec.name}-{version}", correlation_id=spec.name))
    return body


def submit_model(spec, *, key: str, blobs: BlobStore, registry: Registry, bus: Bus,
                 clock: Clock) -> dict:
    run_id = ""
    if isinstance(spec.path, Path):
        source, _ = upload_path(spec.path, blobs)
    elif isinstance(spec.path, str):  # azureml://datastores/<ds>/paths/<path>
        source = datastore_blob(spec.path)
        if not blobs.list(source):
            raise InvalidSpec(f"model {spec.name}: nothing is stored at {spec.path}")
    elif spec.path.output:  # a named output of a run
        run_id = spec.path.run_id
        require(registry, "run", run_id)
        source = (f"runs/{run_id}/named_outputs/{spec.path.output}/"
                  f"{spec.path.path}").rstrip("/")
        if not blobs.list(source):
            raise InvalidSpec(f"job {run_id} has nothing at {spec.path.path or '/'!r} of its "
                              f"output {spec.path.output!r}")
    else:
        run_id = spec.path.run_id
        require(registry, "run", run_id)
        # Azure ML's paths are from the run's artifact root: `paths/outputs/x.pkl` is
        # what the run wrote to ./outputs/x.pkl, `paths/model/` the model MLflow logged
        # there. Before mlcycle followed that, its paths were from ./outputs: one that
        # names nothing at the root is still read so, to keep older specs working.
        source = f"runs/{run_id}/{spec.path.path.strip('/')}".rstrip("/")
        if not blobs.list(source):
            source = f"runs/{run_id}/outputs/{spec.path.path.strip('/')}".rstrip("/")
        if not blobs.list(source):
            raise InvalidSpec(f"job {run_id} has no output {spec.path.path!r}")
    meta = {**spec.properties, **spec.tags}
    version = _version(registry, "model", spec.name, spec.version, key)
    message = RegisterModel(
        name=spec.name, source=source, version=version, type=spec.type,
        framework=str(meta.get("framework", meta.get("model_framework", ""))),
        framework_version=str(meta.get("framework_version",
                                       meta.get("model_framework_version", ""))),
        run_id=run_id, description=spec.description, tags=dict(spec.tags),
        properties=dict(spec.properties))
    body = _create(registry, Record("model", spec.name, version,
                                    {**model_body(message, clock.now(), key),
                                     "warnings": list(spec.warnings)}), key)
    bus.publish(Envelope(message, id=f"model-{spec.name}-{version}", correlation_id=spec.name))
    return body


def model_body(message: RegisterModel, now: str, key: str) -> dict:
    return {"name": message.name, "version": message.version, "type": message.type,
            "source": message.source, "path": "", "framework": message.framework,
            "framework_version": message.framework_version, "tags": message.tags,
            "properties": message.properties, "description": message.description,
            "state": "Registering", "error": None, "onnx": None,
            "job_name": message.run_id or None, "lineage": {"run": message.run_id or None,
                                                              "data": []},
            "created_at": now, "intake_key": key}


def submit_compute(spec, *, key: str, registry: Registry, bus: Bus, clock: Clock,
                   **_) -> dict:
    """Create a pool, or change the settings of an existing one; its nodes and ledger
    stay as they are, and compute-scale applies the new limits (a raised maximum may
    admit waiting runs, a lowered one sheds nodes)."""
    if spec.min_instances > spec.max_instances:
        raise InvalidSpec(f"compute {spec.name}: min_instances {spec.min_instances} exceeds "
                          f"max_instances {spec.max_instances}")
    settings = {"type": spec.type, "size": spec.size, "min_instances": spec.min_instances,
                "max_instances": spec.max_instances, "tier": spec.tier,
                "idle_time_before_scale_down": spec.idle_time_before_scale_down,
                "warnings": [*spec.warnings, *_gpu(spec.size)]}
    try:
        body = registry.put(Record("compute", spec.name, "",
                                   new_pool(spec.name, clock.now(), **settings)),
                            etag="").body
    except Conflict:
        body = update(registry, "compute", spec.name, "", lambda b: b.update(settings))
    bus.publish(Envelope(ScalePool(spec.name), id=f"{spec.name}-configured-{key}",
                         correlation_id=spec.name))
    return body


def submit_endpoint(spec, *, registry: Registry, clock: Clock, **_) -> dict:
    existing = registry.get("endpoint", spec.name)
    body = dict(existing.body) if existing else {"traffic": {}, "created_at": clock.now()}
    body.update(name=spec.name, auth_mode=spec.auth_mode, description=spec.description,
                tags=dict(spec.tags), warnings=list(spec.warnings), scoring_uri=f"/api/endpoints/{spec.name}/score")
    return registry.put(Record("endpoint", spec.name, "", body)).body


def submit_environment(spec, *, key: str, registry: Registry, clock: Clock, **_) -> dict:
    """Register an environment version (auto-incremented unless the spec gives one).
    Its conda file is stored whole, `-r` requirement files inlined, so that a job naming
    it needs no file from here; what no job could run here (conda-only packages) is
    refused now rather than at a job's launch."""
    conda = spec.conda
    if conda is not None:
        conda = inline_requirement_files(conda, (spec.conda_file or spec.source).parent)
    plan = resolve_environment("inline", spec.image, conda)
    version = _version(registry, "environment", spec.name, spec.version, key)
    body = {"name": spec.name, "version": version, "image": spec.image, "conda_file": conda,
            "kind": plan.kind, "pip": list(plan.pip), "description": spec.description,
            "tags": dict(spec.tags), "warnings": [*spec.warnings, *plan.warnings],
            "created_at": clock.now(), "intake_key": key}
    return _create(registry, Record("environment", spec.name, version, body), key)


def registered_environment(reference: str, registry: Registry) -> dict | None:
    """The registered environment a job or deployment names (`my-env:2`, `my-env@latest`
    or a bare `my-env`, as `shared.specs` gives it); None for a name never registered
    here, which runs as a curated environment.

    Raises:
        InvalidSpec: the name is registered, but not the version asked for.
    """
    if reference == "inline":
        return None
    try:
        ref = parse_asset_ref(reference)
    except InvalidSpec:
        ref = None
    name = ref.name if ref else reference
    if not registry.list("environment", name):
        return None
    record = (registry.get("environment", name, ref.version) if ref and ref.version
              else latest(registry, "environment", name))
    if record is None:
        raise InvalidSpec(f"environment {name}:{ref.version} is not registered (mlcycle "
                          f"environment list -n {name} shows its versions)")
    return record.body

