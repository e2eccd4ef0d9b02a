"""A command job's inputs and outputs."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.domain.errors import InvalidSpec
from shared.specs.paths import SpecContext
from shared.specs.refs import is_asset_ref, is_remote, parse_asset_ref
from shared.specs.types import InputSpec, OutputSpec

# Literal types as components declare them (`{type: integer, default: 3}`), and the
# Python values each admits (bool is an int in Python, hence the explicit check).
_LITERAL_TYPES = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
}
_FILE_TYPES = {"uri_file"}
_FOLDER_TYPES = {"uri_folder", "mltable"}


def schema_inputs(inputs: Any, ctx: SpecContext) -> Any:
    """Check each input's local path, and fold typed literals to plain values.

    The commandJob schema only takes literals as plain values; the
    `{type: integer, default: 3}` form comes from component specs and is accepted here
    as a convenience, its value checked against its type.

    Raises:
        InvalidSpec: a typed literal whose value is missing or of another type, or a
            local path that is missing, of the wrong kind, or outside the root.
    """
    if not isinstance(inputs, dict):
        return inputs  # the schema names the problem
    folded = {}
    for name, spec in inputs.items():
        if _is_typed_literal(spec):
            folded[name] = _typed_literal(name, spec)
            continue
        folded[name] = spec
        path = spec.get("path") if isinstance(spec, dict) else None
        if isinstance(path, str) and path and not is_remote(path):
            _local_input(name, spec, ctx)
    return folded


def convert_inputs(inputs: dict | None, ctx: SpecContext) -> dict[str, InputSpec]:
    """mlcycle's view of validated inputs; local paths resolved against the spec."""
    return {name: _input(name, spec, ctx) for name, spec in (inputs or {}).items()}


def convert_outputs(outputs: dict | None) -> dict[str, OutputSpec]:
    """mlcycle's view of validated outputs (type and mode; defaults as Azure ML's)."""
    converted = {}
    for name, spec in (outputs or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        converted[name] = OutputSpec(type=spec.get("type") or "uri_folder", mode=spec.get("mode") or "rw_mount")
    return converted


def _input(name: str, spec: Any, ctx: SpecContext) -> InputSpec:
    if _is_typed_literal(spec):
        return InputSpec("literal", value=_typed_literal(name, spec), type=spec["type"])
    if not isinstance(spec, dict):
        return InputSpec("literal", value=spec, type=_literal_type(spec))
    kind_type, mode, path = spec.get("type") or "uri_folder", spec.get("mode") or "", spec.get("path")
    if not isinstance(path, str) or not path:
        raise InvalidSpec(f"inputs.{name}: needs a path (type {kind_type})")
    if not is_remote(path):
        return InputSpec("local", path=_local_input(name, spec, ctx), type=kind_type, mode=mode)
    if is_asset_ref(path):
        try:
            asset = parse_asset_ref(path)
        except InvalidSpec as e:
            raise InvalidSpec(f"inputs.{name}.path: {e}") from e
        return InputSpec("asset", asset=asset, type=kind_type, mode=mode)
    return InputSpec("uri", value=path, type=kind_type, mode=mode)


def _local_input(name: str, spec: dict, ctx: SpecContext) -> Path:
    path = ctx.local(spec["path"], f"inputs.{name} path")
    kind_type = spec.get("type") or "uri_folder"
    if kind_type in _FILE_TYPES and not path.is_file():
        raise InvalidSpec(f"inputs.{name} path '{spec['path']}' is a folder, but the input is a {kind_type}")
    if kind_type in _FOLDER_TYPES and not path.is_dir():
        raise InvalidSpec(f"inputs.{name} path '{spec['path']}' is a file, but the input is a {kind_type}")
    return path


def _is_typed_literal(spec: Any) -> bool:
    return isinstance(spec, dict) and spec.get("type") in _LITERAL_TYPES


def _typed_literal(name: str, spec: dict) -> Any:
    extra = set(spec) - {"type", "default", "value", "description", "optional"}
    if extra:
        raise InvalidSpec(f"inputs.{name}.{sorted(extra)[0]}: unknown field")
    value = spec.get("value", spec.get("default"))
    if value is None:
        raise InvalidSpec(f"inputs.{name}: needs a value or default (type {spec['type']})")
    if not _LITERAL_TYPES[spec["type"]](value):
        raise InvalidSpec(f"inputs.{name}: {value!r} is not a valid {spec['type']}")
    return value


def _literal_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return "number" if isinstance(value, float) else "string"
