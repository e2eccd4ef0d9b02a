"""A run as azure-ai-ml reads it: ARM's JobBase with CommandJob properties. What the SDK
sent is echoed back (inputs, outputs, ids), as Azure ML does; a run submitted another
way (CLI, drop zone) is described from its record."""
from __future__ import annotations

from shared.arm.scope import Scope
from shared.arm.shapes import resource
from shared.arm.sweep_shapes import sweep_shape
from shared.domain.datastores import DATASTORE
from shared.domain.pools import LOCAL_POOL
from shared.studio.links import run_url

_DISTRIBUTIONS = {"pytorch": "PyTorch", "tensorflow": "TensorFlow", "mpi": "Mpi"}


def studio_url(base: str, run_id: str) -> str:
    return run_url(base, run_id)


def job_shape(scope: Scope, run: dict, base: str, ports: dict) -> dict:
    name = run["name"]
    sent = ports["registry"].get("sdk-job", name)
    sent = sent.body["properties"] if sent is not None else {}
    if run.get("type") == "sweep":
        return sweep_shape(scope, run, base, sent, studio_url(base, name))
    compute = run.get("compute")
    props = {
        "jobType": "Command", "status": run["status"],
        "displayName": run.get("display_name"), "experimentName": run.get("experiment_name"),
        "description": run.get("description") or None, "tags": run.get("tags") or {},
        "properties": sent.get("properties") or {}, "isArchived": False,
        "command": run.get("command"), "codeId": sent.get("codeId"),
        "environmentId": sent.get("environmentId") or run.get("environment"),
        "computeId": scope.id("computes", compute) if compute and compute != LOCAL_POOL
        else None,
        "inputs": sent.get("inputs") or _inputs(run),
        "outputs": sent.get("outputs") or _outputs(run),
        "resources": {"instanceCount": run.get("instance_count") or 1},
        "distribution": sent.get("distribution") or _distribution(run.get("distribution")),
        "environmentVariables": sent.get("environmentVariables") or {},
        "services": {"Studio": {"jobServiceType": "Studio",
                                "endpoint": studio_url(base, name), "status": None}},
    }
    if run.get("timeout_s"):
        props["limits"] = {"jobLimitsType": "Command", "timeout": f"PT{int(run['timeout_s'])}S"}
    created = (run.get("creation_context") or {}).get("created_at")
    return resource(scope, ("jobs", name), props, created_at=created,
                    modified_at=run.get("end_time") or run.get("start_time"))


def _inputs(run: dict) -> dict:
    shaped = {}
    for name, given in (run.get("inputs") or {}).items():
        if given.get("kind") == "literal":
            shaped[name] = {"jobInputType": "literal", "value": str(given.get("value"))}
        elif given.get("asset"):
            data_name, _, version = given["asset"].partition(":")
            shaped[name] = {"jobInputType": given.get("type") or "uri_folder",
                            "uri": f"azureml:{data_name}:{version}"}
        elif str(given.get("blob", "")).startswith(f"{DATASTORE}/"):
            path = given["blob"].removeprefix(f"{DATASTORE}/")
            shaped[name] = {"jobInputType": given.get("type") or "uri_folder",
                            "uri": f"azureml://datastores/{DATASTORE}/paths/{path}"}
    return shaped


def _outputs(run: dict) -> dict:
    return {name: {"jobOutputType": given.get("type") or "uri_folder",
                   "uri": f"azureml://jobs/{run['name']}/outputs/{name}/paths/"}
            for name, given in (run.get("outputs") or {}).items()}


def _distribution(distribution: dict | None) -> dict | None:
    if not distribution:
        return None
    kind = str(distribution.get("type", "")).lower()
    shaped = {"distributionType": _DISTRIBUTIONS.get(kind, kind)}
    for key, rest in (("process_count_per_instance", "processCountPerInstance"),
                      ("worker_count", "workerCount"),
                      ("parameter_server_count", "parameterServerCount")):
        if distribution.get(key) is not None:
            shaped[rest] = distribution[key]
    return shaped
