"""Accepting a command job: snapshot its code, upload its local inputs, resolve its data
references, create the run as NotStarted and hand it to the compute-scale queue."""
from __future__ import annotations

import secrets

from shared.domain.datastores import datastore_blob, is_datastore_uri
from shared.domain.errors import Conflict, InvalidSpec
from shared.domain.messages import Envelope, JobSubmitted
from shared.domain.pools import LOCAL_POOL, LOCAL_POOL_MAX, too_large
from shared.domain.records import latest
from shared.domain.status import RunStatus
from shared.handlers.intake_assets import registered_environment
from shared.handlers.uploads import empty_snapshot, upload_code, upload_path
from shared.ports import BlobStore, Bus, Clock, Record, Registry
from shared.runner.environments import environment_of_spec, to_record
from shared.specs.ignored import gpu_warning

_WORDS = ("amber", "brave", "calm", "eager", "frosty", "gentle", "happy", "jolly",
          "keen", "lively", "mellow", "nimble", "quiet", "swift", "tidy", "witty")
_NOUNS = ("lamp", "river", "pepper", "cloud", "stone", "garden", "kettle", "comet",
          "maple", "harbor", "tulip", "falcon", "spoon", "meadow", "lantern", "otter")


def new_run_id(key: str | None = None) -> str:
    """Azure ML style names; derived from the idempotency key when there is one, so a
    redelivered spec maps to the same run."""
    seed = key or secrets.token_hex(8)
    n = int(seed[:12], 16) if all(c in "0123456789abcdef" for c in seed[:12]) else hash(seed)
    return f"{_WORDS[n % 16]}_{_NOUNS[(n >> 4) % 16]}_{seed[:10]}"


def submit_job(spec, *, key: str, blobs: BlobStore, registry: Registry, bus: Bus,
               clock: Clock) -> dict:
    run_id = spec.name or new_run_id(key)
    existing = registry.get("run", run_id)
    if existing is not None:
        if existing.body.get("intake_key") == key:
            return existing.body  # the same submission, delivered again
        raise InvalidSpec(f"a job named {run_id!r} already exists")
    body = new_run(job_template(spec, blobs=blobs, registry=registry), run_id=run_id,
                   key=key, display_name=spec.display_name or run_id, clock=clock)
    return create_run(body, registry=registry, bus=bus)


def job_template(spec, *, blobs: BlobStore, registry: Registry) -> dict:
    """What every run of a command job spec shares, checked and uploaded: its compute,
    environment, code snapshot and resolved inputs. A sweep keeps one and makes each of
    its trials from it (shared.handlers.sweep_trials).

    Raises:
        InvalidSpec: an unknown compute or environment, a job larger than its pool, or
            an input that cannot be reached; nothing is uploaded then.
    """
    compute = _check_compute(spec, registry)
    # Refused here, before anything is uploaded.
    environment = environment_of_spec(spec, registered_environment(spec.environment, registry))
    # Data references are checked before any upload too: a refused spec leaves no blob.
    inputs = {n: _resolve_input(n, i, blobs, registry)
              for n, i in sorted(spec.inputs.items(), key=lambda item: item[1].kind == "local")}
    return {
        "type": "command", "experiment_name": spec.experiment_name,
        "description": spec.description, "tags": dict(spec.tags), "command": spec.command,
        "compute": compute, "environment": spec.environment,
        "instance_count": spec.instance_count, "distribution": spec.distribution,
        "timeout_s": spec.timeout_s, "environment_spec": to_record(environment),
        "environment_variables": dict(spec.environment_variables),
        "warnings": [*spec.warnings, *_compute_warnings(compute, registry),
                     *environment.warnings],
        "snapshot": upload_code(spec.code, blobs) if spec.code else empty_snapshot(blobs),
        "inputs": {n: inputs[n] for n in spec.inputs},
        "outputs": {n: {"type": o.type} for n, o in spec.outputs.items()},
    }


def new_run(template: dict, *, run_id: str, key: str, display_name: str, clock: Clock,
            **fields) -> dict:
    """The body of a NotStarted run of `template` (job_template's), `fields` added."""
    now = clock.now()
    return {
        **template, "name": run_id, "intake_key": key, "display_name": display_name,
        "outputs": {n: {**o, "path": f"runs/{run_id}/named_outputs/{n}"}
                    for n, o in template["outputs"].items()},
        "status": RunStatus.NOT_STARTED.value,
        "status_history": [{"status": RunStatus.NOT_STARTED.value, "time": now}],
        "creation_context": {"created_at": now},
        "start_time": None, "end_time": None, "exit_code": None, "failed_rank": None,
        "error": None, "metrics": {}, "log_tail": "", **fields,
    }


def create_run(body: dict, *, registry: Registry, bus: Bus) -> dict:
    """Store a new run and hand it to compute-scale. A run created again (a submission
    delivered twice, a sweep's trial started again after a crash) is the stored one,
    sent again under the same id: a duplicate the bus drops, unless the first send was
    lost with a host that died after storing the run.

    Returns: the stored body."""
    run_id = body["name"]
    try:
        registry.put(Record("run", run_id, "", body), etag="")
    except Conflict:
        body = registry.get("run", run_id).body
    bus.publish(Envelope(JobSubmitted(run_id, body["compute"]), id=f"{run_id}-submitted",
                         correlation_id=run_id))
    return body


def _check_compute(spec, registry: Registry) -> str:
    """The pool's name; a job larger than its pool's max_instances is refused at once,
    since it could never start."""
    name = (spec.compute or LOCAL_POOL).removeprefix("azureml:")
    pool = registry.get("compute", name)
    if pool is None and name != LOCAL_POOL:
        raise InvalidSpec(f"compute {name!r} does not exist; create it first "
                          "(mlcycle compute create)")
    most = int(pool.body["max_instances"]) if pool else LOCAL_POOL_MAX
    if spec.instance_count > most:
        raise InvalidSpec(too_large(name, spec.instance_count, most))
    return name


def _compute_warnings(name: str, registry: Registry) -> list[str]:
    pool = registry.get("compute", name)
    warning = gpu_warning(pool.body.get("size"), f"compute {name}: size") if pool else None
    return [warning] if warning else []


def _resolve_input(name: str, spec_input, blobs: BlobStore, registry: Registry) -> dict:
    if spec_input.kind == "literal":
        return {"kind": "literal", "value": spec_input.value}
    if spec_input.kind == "local":
        blob, kind = upload_path(spec_input.path, blobs)
        return {"kind": kind, "blob": blob, "type": spec_input.type}
    if spec_input.kind == "uri" and is_datastore_uri(str(spec_input.value)):
        return _datastore_input(name, spec_input, blobs)
    if spec_input.kind != "asset":
        raise InvalidSpec(f"input {name!r}: {spec_input.value!r} is not reachable from this "
                          "host; use a local path, a datastore path "
                          "(azureml://datastores/workspaceblobstore/paths/...) or a "
                          "registered data asset")
    ref = spec_input.asset
    if ref.version:
        record = registry.get("data", ref.name, ref.version)
    else:
        record = latest(registry, "data", ref.name, lambda b: b.get("state") == "Registered")
    if record is None or record.body.get("state") != "Registered":
        wanted = f"{ref.name}:{ref.version}" if ref.version else f"{ref.name}@latest"
        raise InvalidSpec(f"input {name!r}: data asset {wanted} is not registered")
    data = record.body
    return {"kind": "file" if data["type"] == "uri_file" else "folder",
            "blob": data["path"], "type": data["type"],
            "asset": f"{data['name']}:{data['version']}"}


def _datastore_input(name: str, spec_input, blobs: BlobStore) -> dict:
    """azureml://datastores/<ds>/paths/<p>: files already in the workspace's datastore
    (what azure-ai-ml uploads a local input to before it submits the job)."""
    blob = datastore_blob(str(spec_input.value))
    if blobs.exists(blob):
        kind = "file"
    elif blobs.list(blob):
        kind = "folder"
    else:
        raise InvalidSpec(f"input {name!r}: nothing is stored at {spec_input.value}")
    if spec_input.type == "uri_file" and kind != "file":
        raise InvalidSpec(f"input {name!r}: {spec_input.value} is a folder, but the input "
                          "is a uri_file")
    return {"kind": kind, "blob": blob, "type": spec_input.type}
