"""A command job as azure-ai-ml sends it (ARM's JobBase) turned into the Azure ML v2 YAML
it stands for, with its code folder beside it: the form mlcycle's one intake reads, so
that the SDK's jobs are validated and accepted exactly as spec files are."""
from __future__ import annotations

import re
from pathlib import Path

from shared.api.replies import BadRequest
from shared.arm.scope import last_segment
from shared.domain.records import require
from shared.ports import BlobStore, Registry

SCHEMA = "https://azuremlschemas.azureedge.net/latest/commandJob.schema.json"
_DISTRIBUTIONS = {
    "pytorch": ("pytorch", {"processCountPerInstance": "process_count_per_instance"}),
    "tensorflow": ("tensorflow", {"workerCount": "worker_count",
                                  "parameterServerCount": "parameter_server_count"}),
    "mpi": ("mpi", {"processCountPerInstance": "process_count_per_instance"}),
}
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def job_document(name: str, props: dict) -> dict:
    """The YAML document of the command job `props` describes (or of the sweep job:
    shared.arm.sweep_specs); its code folder, when it has one, is `./code` (see
    download_code). Raises BadRequest for what a command job cannot be here."""
    job_type = str(props.get("jobType") or "")
    if job_type.lower() == "sweep":
        from shared.arm.sweep_specs import sweep_document  # it builds on this module

        return sweep_document(name, props)
    if job_type.lower() != "command":
        raise BadRequest(f"{job_type or 'this'} jobs are not supported by mlcycle's SDK "
                         "door; submit a command or sweep job")
    if not props.get("command"):
        raise BadRequest("a command job needs properties.command")
    doc = {"$schema": SCHEMA, "type": "command", "name": name, "command": props["command"]}
    for field, key in (("displayName", "display_name"), ("experimentName", "experiment_name"),
                       ("description", "description")):
        if props.get(field):
            doc[key] = props[field]
    # Without one, the YAML intake would name the experiment after the spec's folder,
    # here a temporary one; Azure ML's default is "Default".
    doc.setdefault("experiment_name", "Default")
    if props.get("tags"):
        doc["tags"] = {str(k): str(v) for k, v in props["tags"].items()}
    if props.get("codeId"):
        doc["code"] = "./code"
    doc["environment"] = environment_ref(props.get("environmentId"))
    if compute := last_segment(props.get("computeId"), "computes"):
        doc["compute"] = f"azureml:{compute}"
    doc.update(_inputs_outputs(props))
    doc.update(_resources(props))
    if props.get("environmentVariables"):
        doc["environment_variables"] = {str(k): str(v)
                                        for k, v in props["environmentVariables"].items()}
    return doc


def download_code(code_id: str, target: Path, registry: Registry, blobs: BlobStore) -> None:
    """The files of the code version code_id names, into target."""
    name, version = last_segment(code_id, "codes"), last_segment(code_id, "versions")
    if not name or not version:
        raise BadRequest(f"codeId {code_id!r} does not name a code version")
    record = require(registry, "code", name, version)
    blobs.download(record.body["path"], target)


def environment_ref(environment_id: str | None) -> str:
    """The SDK sends a name as the user wrote it ("azureml:AzureML-sklearn-1.5@latest")
    or the ARM id of a version; both become `azureml:<name>:<version>` / `@<label>`."""
    if not environment_id:
        raise BadRequest("a command job needs an environment (properties.environmentId)")
    value = environment_id.strip()
    m = re.search(r"/environments/([^/]+)/(versions|labels)/([^/]+)$", value)
    if m is not None:
        sep = ":" if m[2] == "versions" else "@"
        return f"azureml:{m[1]}{sep}{m[3]}"
    return value if value.startswith("azureml:") else f"azureml:{value}"


def _inputs_outputs(props: dict) -> dict:
    inputs, outputs = {}, {}
    for key, given in (props.get("inputs") or {}).items():
        kind = str(given.get("jobInputType") or "").lower()
        if kind == "literal":
            inputs[key] = given.get("value")
        elif given.get("uri"):
            uri = _asset_uri(given["uri"])
            inputs[key] = {"type": kind or "uri_folder", "path": uri,
                           **({"mode": _mode(given["mode"])} if given.get("mode") else {})}
        else:
            raise BadRequest(f"input {key!r} has neither a value nor a uri")
    for key, given in (props.get("outputs") or {}).items():
        outputs[key] = {"type": str(given.get("jobOutputType") or "uri_folder").lower()}
        if given.get("mode"):
            outputs[key]["mode"] = _mode(given["mode"])
    return {k: v for k, v in (("inputs", inputs), ("outputs", outputs)) if v}


def _asset_uri(uri: str) -> str:
    """A data asset's ARM id ("azureml:/subscriptions/.../data/x/versions/2") as the
    YAML names it ("azureml:x:2"); other URIs as they are."""
    m = re.match(r"^(?:azureml:)?/subscriptions/.+/data/([^/]+)/versions/([^/]+)$", uri)
    return f"azureml:{m[1]}:{m[2]}" if m else uri


def _mode(mode: str) -> str:
    """"ReadOnlyMount" -> "ro_mount", as the YAML spells modes."""
    spelled = {"readonlymount": "ro_mount", "readwritemount": "rw_mount",
               "download": "download", "upload": "upload", "direct": "direct",
               "evalmount": "eval_mount", "evaldownload": "eval_download"}
    return spelled.get(mode.lower(), mode)


def _resources(props: dict) -> dict:
    out = {}
    resources = props.get("resources") or {}
    if resources.get("instanceCount"):
        out["resources"] = {"instance_count": int(resources["instanceCount"])}
    distribution = props.get("distribution")
    if distribution:
        kind = str(distribution.get("distributionType") or "").lower()
        if kind not in _DISTRIBUTIONS:
            raise BadRequest(f"distribution type {distribution.get('distributionType')!r} "
                             "is not one of PyTorch, TensorFlow, Mpi")
        name, fields = _DISTRIBUTIONS[kind]
        out["distribution"] = {"type": name, **{yaml_key: distribution[rest_key]
                                                for rest_key, yaml_key in fields.items()
                                                if distribution.get(rest_key) is not None}}
    timeout = (props.get("limits") or {}).get("timeout")
    if timeout:
        out["limits"] = {"timeout": duration_seconds(timeout)}
    return out


def duration_seconds(value: str) -> int:
    """An ISO 8601 duration ("PT1H30M") in whole seconds."""
    m = _DURATION.match(str(value))
    if m is None or not any(m.groups()):
        raise BadRequest(f"limits.timeout {value!r} is not an ISO 8601 duration")
    days, hours, minutes, seconds = (float(g or 0) for g in m.groups())
    return int(days * 86400 + hours * 3600 + minutes * 60 + seconds)
