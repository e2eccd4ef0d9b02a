"""Jobs: put (submit through the one intake), get, list and cancel."""
from __future__ import annotations

from pathlib import Path

from shared.api import jobs as api_jobs
from shared.api.replies import BadRequest, Reply
from shared.arm.call import Call
from shared.arm.job_shapes import job_shape
from shared.arm.intake import accept_document, request_key
from shared.arm.job_specs import download_code, job_document
from shared.arm.operations import accepted
from shared.arm.scope import Scope
from shared.arm.shapes import page
from shared.domain.records import require, update
from shared.ports import Record

# Fields of a job that a second put may change, as Azure ML allows.
MUTABLE = {"tags": "tags", "displayName": "display_name", "description": "description"}


def put_job(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    """A new job is accepted as its YAML would be; the same put again (the SDK retries)
    is the same job; a put of an existing job changes only its tags, display name and
    description, as in Azure ML."""
    props = call.json().get("properties")
    if not isinstance(props, dict):
        raise BadRequest("a job needs properties")
    key = request_key("job", name, call.body)
    registry = ports["registry"]
    existing = registry.get("run", name)
    if existing is not None and existing.body.get("intake_key") != key:
        return Reply(200, job_shape(scope, _changed(registry, name, props), call.base, ports))
    doc = job_document(name, props)

    def code(folder: Path) -> None:
        code_id = props.get("codeId") or (props.get("trial") or {}).get("codeId")  # a sweep's
        if code_id:
            download_code(code_id, folder / "code", registry, ports["blobs"])
    run = accept_document(doc, "job", key=key, ports=ports, prepare=code)
    registry.put(Record("sdk-job", name, "", {"properties": props}))
    return Reply(201 if existing is None else 200, job_shape(scope, run, call.base, ports))


def _changed(registry, name: str, props: dict) -> dict:
    def change(body: dict) -> None:
        for rest_key, key in MUTABLE.items():
            if props.get(rest_key) is not None:
                body[key] = props[rest_key]
    return update(registry, "run", name, "", change)


def get_job(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    run = require(ports["registry"], "run", name).body
    return Reply(200, job_shape(scope, run, call.base, ports))


def list_jobs(call: Call, ports: dict, *, scope: Scope) -> Reply:
    runs = [r.body for r in ports["registry"].list("run")][::-1]
    if call.query.get("listViewType") == "ArchivedOnly":
        runs = []
    return Reply(200, page([job_shape(scope, run, call.base, ports) for run in runs]))


def cancel_job(call: Call, ports: dict, *, scope: Scope, name: str) -> Reply:
    api_jobs.cancel_job(name, registry=ports["registry"], compute=ports["compute"],
                        clock=ports["clock"])
    return accepted(call, ports, scope, "cancel-job", name)


ROUTES = [
    ("GET", "jobs", list_jobs),
    ("GET", "jobs/{name}", get_job),
    ("PUT", "jobs/{name}", put_job),
    ("POST", "jobs/{name}/cancel", cancel_job),
]
