"""The one intake behind both entry points of a spec file: the blob drop zone and the
HTTP API. It loads and validates the YAML, then hands the spec to its kind's intake."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from shared.handlers import intake_assets, intake_deployments, intake_jobs, intake_sweeps
from shared.ports import BlobStore, Bus, Clock, Registry
from shared.specs import types as t

_BY_TYPE = {
    t.JobSpec: ("job", intake_jobs.submit_job),
    t.SweepSpec: ("job", intake_sweeps.submit_sweep),
    t.DataSpec: ("data", intake_assets.submit_data),
    t.ModelSpec: ("model", intake_assets.submit_model),
    t.ComputeSpec: ("compute", intake_assets.submit_compute),
    t.EndpointSpec: ("endpoint", intake_assets.submit_endpoint),
    t.DeploymentSpec: ("deployment", intake_deployments.submit_deployment),
    t.EnvironmentSpec: ("environment", intake_assets.submit_environment),
}


def accept_spec(path: Path, *, root: Path, key: str, blobs: BlobStore, registry: Registry,
                bus: Bus, clock: Clock, overrides: Sequence[str] = (),
                kind: str | None = None, **extra) -> tuple[str, dict]:
    """Validate the spec at path (whose local files lie under root) and act on it.

    Parameters:
        key: idempotency key; the same key delivered twice creates nothing new.
        kind: the kind the caller expects (an HTTP route); None accepts any.
    Returns:
        (kind, record body) of what was created.
    Raises:
        InvalidSpec: the spec is refused; nothing was created.
    """
    from shared.specs import load_spec

    spec = load_spec(path, root=root, overrides=overrides, kind=kind)
    found, submit = _BY_TYPE[type(spec)]
    body = submit(spec, key=key, blobs=blobs, registry=registry, bus=bus, clock=clock,
                  **extra)
    return found, body
