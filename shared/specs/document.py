"""A spec file as a YAML document: reading it, `--set` overrides, and telling which
kind of Azure ML spec it is."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Sequence

import yaml

from shared import bounded_yaml
from shared.domain.errors import InvalidSpec

MAX_SPEC_BYTES = 1 << 20
KINDS = ("job", "data", "model", "compute", "endpoint", "deployment", "environment")

# `$schema` file names (lower case, without `.schema.json`) of the specs mlcycle reads.
_SCHEMA_KINDS = {
    "commandjob": "job",
    "sweepjob": "job",
    "pipelinejob": "job",
    "data": "data",
    "model": "model",
    "amlcompute": "compute",
    "managedonlineendpoint": "endpoint",
    "managedonlinedeployment": "deployment",
    "environment": "environment",
}
# Fields whose `file:` reference names a file the spec's own checks read (within its
# root) and the CLI bundles: an environment spec, or a conda file.
_FILE_FIELDS = {
    "job": {"environment", "environment.conda_file"},
    "deployment": {"environment", "environment.conda_file"},
    "environment": {"conda_file"},
}
_DATA_TYPES = {"uri_file", "uri_folder", "mltable"}
_MODEL_TYPES = {"custom_model", "mlflow_model", "triton_model"}


def read_text(path: Path, what: str = "spec file") -> str:
    """Read a small UTF-8 file, refusing anything over `MAX_SPEC_BYTES`.

    Raises:
        InvalidSpec: missing, too large, or not UTF-8.
    """
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError as e:
        raise InvalidSpec(f"{what} does not exist") from e
    except IsADirectoryError as e:
        raise InvalidSpec(f"{what} is a folder, not a file") from e
    if len(data) > MAX_SPEC_BYTES:
        raise InvalidSpec(f"{what} is larger than the 1 MiB limit for specs")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidSpec(f"{what} is not UTF-8 text (byte {e.start})") from e


def parse_yaml(text: str) -> Any:
    """Parse YAML text.

    Raises:
        InvalidSpec: a syntax error, or nesting deeper than bounded_yaml.MAX_NESTING,
            naming its line and column (1-based).
    """
    try:
        return bounded_yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidSpec(f"invalid YAML{where}: {e.problem or e.context}") from e
    except yaml.YAMLError as e:
        raise InvalidSpec(f"invalid YAML: {e}") from e


def apply_overrides(doc: dict, overrides: Sequence[str]) -> dict:
    """Apply `az ml ... --set key.sub=value` overrides to a copy of `doc`.

    The value is read as YAML (`0.2` is a number, `true` a boolean), falling back to
    the text as written; missing mappings along the key are created.

    Raises:
        InvalidSpec: an override without `=` or with an empty key segment, or a key
            that runs through something other than a mapping.
    """
    doc = copy.deepcopy(doc)
    for item in overrides:
        key, sep, raw = item.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(parts):
            raise InvalidSpec(f"override '{item}' is not key.sub=value")
        target = doc
        for depth, part in enumerate(parts[:-1], start=1):
            if target.get(part) is None:
                target[part] = {}
            target = target[part]
            if not isinstance(target, dict):
                raise InvalidSpec(f"override '{item}': '{'.'.join(parts[:depth])}' is not a mapping")
        target[parts[-1]] = _override_value(raw)
    return doc


def _override_value(raw: str) -> Any:
    if not raw.strip():
        return ""
    try:
        return bounded_yaml.safe_load(raw)
    except bounded_yaml.NestingTooDeep as e:
        raise InvalidSpec(f"override value: {e.problem}") from e
    except yaml.YAMLError:  # "a: b c" and the like: the user meant the text
        return raw


def refuse_file_references(doc: dict, kind: str | None = None) -> None:
    """Refuse azure-ai-ml's `file:` references (a field's value read from another
    file): the schema would read files nobody checked, and the CLI would not bundle them.
    The environment and conda file fields of a kind of spec are the exception: their
    files are checked and bundled like any local path.

    Raises:
        InvalidSpec: naming the first field that holds one.
    """
    allowed = _FILE_FIELDS.get(kind or "", set())
    pending: list[tuple[str, Any]] = [("", doc)]
    seen: set[int] = set()
    while pending:
        path, node = pending.pop()
        if isinstance(node, str) and node.startswith("file:") and path not in allowed:
            raise InvalidSpec(f"{path}: 'file:' references are not supported; write the content in the spec")
        if isinstance(node, (dict, list)) and id(node) not in seen:
            seen.add(id(node))  # YAML aliases share nodes: walk each once
            items = node.items() if isinstance(node, dict) else enumerate(node)
            pending.extend((f"{path}.{key}" if path else str(key), value) for key, value in items)


def schema_name(doc: dict) -> str | None:
    """The `$schema` file name, lower case and without `.schema.json`, if any."""
    url = doc.get("$schema")
    if not isinstance(url, str) or not url.strip():
        return None
    return url.strip().rstrip("/").rsplit("/", 1)[-1].lower().removesuffix(".json").removesuffix(".schema")


def detect_kind(doc: dict) -> str | None:
    """Which kind of spec a document is, by `$schema` or failing that by its keys.

    Returns:
        One of KINDS, or None when it does not look like a spec mlcycle reads.
    """
    schema = schema_name(doc)
    if schema in _SCHEMA_KINDS:
        return _SCHEMA_KINDS[schema]
    if schema and "azureml" in str(doc["$schema"]).lower():
        return None  # an Azure ML spec of another kind (environment, component, ...)
    kind_type = doc.get("type")
    kind_type = kind_type.lower() if isinstance(kind_type, str) else None
    if kind_type in ("command", "sweep", "pipeline") or "command" in doc:
        return "job"
    if kind_type == "amlcompute":
        return "compute"
    if "endpoint_name" in doc and "model" in doc:
        return "deployment"
    if kind_type in _DATA_TYPES and "path" in doc:
        return "data"
    if kind_type in _MODEL_TYPES and "path" in doc:
        return "model"
    if "auth_mode" in doc and "name" in doc:
        return "endpoint"
    if "name" in doc and any(field in doc for field in ("image", "conda_file", "build")):
        return "environment"
    return None


def spec_kind(text: str) -> str | None:
    """Tell an Azure ML spec from other YAML (a conda.yml, a CI workflow).

    Parameters:
        text: the file's content.

    Raises:
        InvalidSpec: the text is not valid YAML (line and column named).

    Returns:
        "job", "data", "model", "compute", "endpoint", "deployment" or "environment";
        None for YAML that is not such a spec.
    """
    doc = parse_yaml(text)
    return detect_kind(doc) if isinstance(doc, dict) else None
