"""Data and model specs: the assets mlcycle registers."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.domain.errors import InvalidSpec
from shared.specs.paths import SpecContext
from shared.domain.datastores import datastore_blob, is_datastore_uri
from shared.specs.refs import check_name, is_asset_ref, is_remote, parse_asset_ref, parse_run_output_ref
from shared.specs.types import AssetRef, DataSpec, ModelSpec, RunOutputRef

_RUN_OUTPUT_FORM = ("azureml://jobs/<run>/outputs/artifacts/paths/<path>, "
                    "azureml://jobs/<run>/outputs/<output>/paths/<path> or "
                    "azureml://datastores/workspaceblobstore/paths/<path>")


def prepare_data(doc: dict, ctx: SpecContext) -> dict:
    """Check names and a local path before the schema sees the document.

    Raises:
        InvalidSpec: an unsafe name or version; a local path that is missing, outside
            the root, or a folder for a uri_file (a file for a uri_folder).
    """
    _check_required(doc)
    path = doc.get("path")
    if isinstance(path, str) and not is_remote(path):
        _data_path(path, doc.get("type") or "uri_folder", ctx)
    return doc


def to_data_spec(doc: dict, data: Any, ctx: SpecContext) -> DataSpec:
    """Convert a validated data spec (`data` is azure-ai-ml's entity for `doc`)."""
    kind_type = data.type or "uri_folder"
    return DataSpec(
        source=ctx.source,
        name=data.name,
        version=_version(doc),
        type=kind_type,
        path=_data_path(doc["path"], kind_type, ctx),
        description=doc.get("description") or "",
        tags=dict(doc.get("tags") or {}),
    )


def prepare_model(doc: dict, ctx: SpecContext) -> dict:
    """Check names and the model's path before the schema sees the document.

    Raises:
        InvalidSpec: an unsafe name or version; a path that is neither local nor
            `azureml://jobs/<run>/outputs/artifacts/paths/<path>`; a local path that is
            missing or outside the root.
    """
    _check_required(doc)
    if isinstance(doc.get("path"), str):
        _model_path(doc["path"], ctx)
    return doc


def to_model_spec(doc: dict, model: Any, ctx: SpecContext) -> ModelSpec:
    """Convert a validated model spec; framework details stay in tags/properties."""
    return ModelSpec(
        source=ctx.source,
        name=model.name,
        version=_version(doc),
        type=model.type or "custom_model",
        path=_model_path(doc["path"], ctx),
        description=doc.get("description") or "",
        tags=dict(doc.get("tags") or {}),
        properties=dict(doc.get("properties") or {}),
    )


def _data_path(path: str, kind_type: str, ctx: SpecContext) -> Path | AssetRef | str:
    if is_asset_ref(path):
        return parse_asset_ref(path)
    if is_remote(path):
        return path  # a datastore or web URI, fetched at registration
    local = ctx.local(path, "data path")
    if kind_type == "uri_file" and not local.is_file():
        raise InvalidSpec(f"data path '{path}' is a folder, but the data is a uri_file")
    if kind_type in ("uri_folder", "mltable") and not local.is_dir():
        raise InvalidSpec(f"data path '{path}' is a file, but the data is a {kind_type}")
    return local


def _check_required(doc: dict) -> None:
    # azure-ai-ml makes up a name, and accepts a model without a path; a registration
    # needs both.
    for field in ("name", "path"):
        if doc.get(field) is None:
            raise InvalidSpec(f"{field}: required field missing")
    check_name(doc["name"], "name")
    check_name(doc.get("version"), "version")


def _model_path(path: str, ctx: SpecContext) -> Path | RunOutputRef | str:
    if is_datastore_uri(path):
        try:
            datastore_blob(path)  # another datastore, or no path in it, is refused now
        except InvalidSpec as e:
            raise InvalidSpec(f"model path: {e}") from e
        return path  # files already in the workspace's datastore (an SDK upload)
    if path.startswith("azureml://jobs/"):
        try:
            return parse_run_output_ref(path)
        except InvalidSpec as e:
            raise InvalidSpec(f"model path: {e}") from e
    if is_remote(path):
        raise InvalidSpec(f"model path '{path}' must be a local path or {_RUN_OUTPUT_FORM}")
    return ctx.local(path, "model path")


def _version(doc: dict) -> str | None:
    version = doc.get("version")
    return None if version is None else str(version)
