"""Accepting data, model, compute, endpoint and deployment specs."""
from __future__ import annotations

from pathlib import Path

from shared.domain.errors import Conflict, InvalidSpec, NotFound
from shared.domain.messages import (DeployModel, Envelope, RegisterData, RegisterModel,
                                    ScalePool)
from shared.domain.pools import new_pool
from shared.domain.records import require, update
from shared.handlers.uploads import upload_path
from shared.ports import BlobStore, Bus, Clock, Record, Registry


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
    if not isinstance(spec.path, Path):
        raise InvalidSpec(f"data {spec.name}: path {spec.path!s} is not a local file or "
                          "folder; the local host registers local paths")
    source, _ = upload_path(spec.path, blobs)
    version = _version(registry, "data", spec.name, spec.version, key)
    body = {"name": spec.name, "version": version, "type": spec.type, "source": source,
            "path": "", "fingerprint": None, "state": "Registering", "error": None,
            "description": spec.description, "tags": dict(spec.tags),
            "created_at": clock.now(), "intake_key": key}
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
    else:
        run_id = spec.path.run_id
        require(registry, "run", run_id)
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
                                    model_body(message, clock.now(), key)), key)
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
                "idle_time_before_scale_down": spec.idle_time_before_scale_down}
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
                tags=dict(spec.tags), scoring_uri=f"/api/endpoints/{spec.name}/score")
    return registry.put(Record("endpoint", spec.name, "", body)).body


def submit_deployment(spec, *, key: str, registry: Registry, bus: Bus, clock: Clock,
                      all_traffic: bool = False, endpoint: str | None = None, **_) -> dict:
    endpoint = endpoint or spec.endpoint_name
    if registry.get("endpoint", endpoint) is None:
        raise NotFound(f"endpoint {endpoint!r} does not exist; create it first")
    if not registry.list("model", spec.model.name):
        raise InvalidSpec(f"model {spec.model.name!r} is not registered; register it first "
                          "(mlcycle model create)")
    wanted = spec.model.version
    if wanted and registry.get("model", spec.model.name, str(wanted)) is None:
        # Refused here: the deploy handler would dead-letter it and leave it Creating.
        raise InvalidSpec(f"model {spec.model.name}:{wanted} is not registered")
    name = f"{endpoint}/{spec.name}"
    existing = registry.get("deployment", name)
    if existing is not None and existing.body.get("intake_key") == key:
        # The same submission again (an HTTP retry): setting it back to Creating would
        # leave it there, since its DeployModel is a duplicate the bus drops.
        return existing.body
    body = dict(existing.body) if existing else {"model_version": None,
                                                 "created_at": clock.now()}
    body.update(name=spec.name, endpoint=endpoint, model=spec.model.name,
                model_ref={"version": spec.model.version, "label": spec.model.label},
                state="Creating", error=None, all_traffic=all_traffic,
                instance_type=spec.instance_type, instance_count=spec.instance_count,
                intake_key=key)
    body = registry.put(Record("deployment", name, "", body)).body
    bus.publish(Envelope(DeployModel(endpoint, spec.name), id=f"deploy-{name}-{key}",
                         correlation_id=endpoint))
    return body
