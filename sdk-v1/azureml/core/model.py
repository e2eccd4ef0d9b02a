"""Model: a registered model version (`mlcycle model create`), and no-code deployment."""
from __future__ import annotations

import json
import os
from typing import Any

from azureml.core._connection import absolute, quote
from azureml.exceptions import ModelNotFoundException, UserErrorException, WebserviceException

MODEL_SCHEMA = "https://azuremlschemas.azureedge.net/latest/model.schema.json"
RESOURCE_PROPERTY = "resource_configuration"
_WAIT_S = 300.0


class Model:
    """A version of a registered model.

    Parameters:
        workspace: the Workspace.
        name: the model's name; version: its version (None: the newest).
        id: `name:version`, instead of name and version.
    Raises:
        ModelNotFoundException: no such model (or version) is registered.
    """

    class Framework:
        """The frameworks v1 names a model's with (mlcycle converts these to ONNX)."""

        SCIKITLEARN = "ScikitLearn"
        TENSORFLOW = "TensorFlow"
        TFKERAS = "Keras"
        PYTORCH = "PyTorch"
        ONNX = "Onnx"
        CUSTOM = "Custom"
        MULTI = "Multi"

    def __init__(self, workspace: Any, name: str | None = None, id: str | None = None,
                 tags: Any = None, properties: Any = None, version: int | str | None = None,
                 run_id: str | None = None, **kwargs: Any) -> None:
        if id:
            name, _, version = id.partition(":")
        if not name:
            raise UserErrorException("Model takes a name (or an id, name:version)")
        wanted = "latest" if version in (None, "") else str(version)
        record = workspace._conn.get_or_none(
            f"/api/models/{quote(name)}/versions/{quote(wanted)}")
        if record is None:
            raise ModelNotFoundException(f"ModelNotFound: Model with name {name}"
                                         f"{'' if version is None else f' and version {version}'}"
                                         " not found in provided workspace")
        self._bind(workspace, record)

    def _bind(self, workspace: Any, record: dict) -> None:
        self.workspace, self._record = workspace, record
        self.name = record["name"]
        raw = str(record["version"])
        self.version: int | str = int(raw) if raw.isdigit() else raw
        self.id = f"{self.name}:{raw}"
        self.tags = dict(record.get("tags") or {})
        self.properties = dict(record.get("properties") or {})
        self.description = record.get("description")
        self.model_framework = record.get("framework") or None
        self.model_framework_version = record.get("framework_version") or None
        self.run_id = record.get("job_name")
        self.created_time = record.get("created_at")
        self.state = record.get("state")
        config = self.properties.get(RESOURCE_PROPERTY)
        self.resource_configuration = _resources(config) if config else None

    @staticmethod
    def register(workspace: Any, model_path: str, model_name: str, tags: dict | None = None,
                 properties: dict | None = None, description: str | None = None,
                 datasets: Any = None, model_framework: str | None = None,
                 model_framework_version: str | None = None, child_paths: Any = None,
                 sample_input_dataset: Any = None, sample_output_dataset: Any = None,
                 resource_configuration: Any = None, **kwargs: Any) -> "Model":
        """Register a local file or folder as a new version of model_name.

        Raises:
            WebserviceException: the path does not exist, or registration failed.
        """
        if not os.path.exists(model_path):
            raise WebserviceException(f"Error, provided model path \"{model_path}\" cannot "
                                      "be found")
        return Model._register(workspace, model_name, absolute(model_path), tags=tags,
                               properties=properties, framework=model_framework,
                               framework_version=model_framework_version,
                               description=description,
                               sample_input_dataset=sample_input_dataset,
                               resource_configuration=resource_configuration)

    @staticmethod
    def _register(workspace: Any, name: str, path: str, *, tags: dict | None,
                  properties: dict | None, framework: str | None,
                  framework_version: str | None, description: str | None,
                  sample_input_dataset: Any, resource_configuration: Any) -> "Model":
        """Post a model spec for path (local, or azureml://jobs/...), wait until it is
        registered; framework and its version become the tags mlcycle converts by."""
        tags = {str(k): str(v) for k, v in (tags or {}).items()}
        if framework:
            tags["framework"] = framework
        if framework_version:
            tags["framework_version"] = str(framework_version)
        if sample_input_dataset is not None and getattr(sample_input_dataset, "id", None):
            tags["sample_input_dataset"] = f"azureml:{sample_input_dataset.id}"
        props = {str(k): str(v) for k, v in (properties or {}).items()}
        if resource_configuration is not None:
            props[RESOURCE_PROPERTY] = json.dumps(resource_configuration.serialize())
        spec = {"$schema": MODEL_SCHEMA, "name": name, "type": "custom_model", "path": path,
                "description": description, "tags": tags, "properties": props}
        conn = workspace._conn
        created = conn.submit("/api/models", {k: v for k, v in spec.items() if v},
                              error=WebserviceException)
        route = f"/api/models/{quote(name)}/versions/{quote(str(created['version']))}"
        final = conn.wait(lambda: conn.json("GET", route), lambda m: m["state"] != "Registering",
                          what=f"model {name}:{created['version']}", timeout=_WAIT_S,
                          error=WebserviceException)
        if final["state"] == "Failed":
            raise WebserviceException(f"model {name}:{final['version']} failed to register: "
                                      f"{(final.get('error') or {}).get('message', '')}")
        print(f"Registering model {name}")
        model = Model.__new__(Model)
        model._bind(workspace, final)
        return model

    @staticmethod
    def list(workspace: Any, name: str | None = None, tags: Any = None, **kwargs: Any) -> list:
        """Registered model versions (of name), newest first."""
        route = "/api/models" + (f"?name={quote(name)}" if name else "")
        models = []
        for record in workspace._conn.json("GET", route).get("value", []):
            if name in (None, record.get("name")):
                model = Model.__new__(Model)
                model._bind(workspace, record)
                models.append(model)
        return models[::-1]

    def download(self, target_dir: str = ".", exist_ok: bool = False,
                 exists_ok: bool | None = None) -> str:
        """Download the version's files (`onnx/` once converted) into target_dir; returns
        the path of the model (its single file, or its folder).

        Raises:
            WebserviceException: a file is there already and exist_ok is False.
        """
        from pathlib import Path

        from azureml.core._connection import failures
        from shared.cli.jobs import fetch_files

        route = f"/api/models/{quote(self.name)}/versions/{quote(str(self.version))}/files"
        files = self.workspace._conn.json("GET", route).get("value", [])
        for name in files:
            if os.path.exists(os.path.join(target_dir, name)) and not (exist_ok or exists_ok):
                raise WebserviceException(f"File already exists: {os.path.join(target_dir, name)}")
        with failures(WebserviceException):
            fetch_files(self.workspace._conn.client, route, files, Path(target_dir))
        own = [f for f in files if not f.startswith("onnx/")]
        single = own[0] if len(own) == 1 else os.path.commonpath(own) if own else ""
        return os.path.join(target_dir, single)

    @staticmethod
    def deploy(workspace: Any, name: str, models: list, inference_config: Any = None,
               deployment_config: Any = None, deployment_target: Any = None,
               overwrite: bool = False, show_output: bool = False) -> Any:
        """Deploy one model with no code: its ONNX conversion behind the endpoint name.

        Returns:
            The Webservice (wait_for_deployment() waits until it serves).
        Raises:
            WebserviceException: an inference_config (scoring scripts are not deployed
                this way here), other than one model, or the service exists and
                overwrite is False.
        """
        from azureml.core.webservice import Webservice

        return Webservice._deploy_no_code(workspace, name, models, inference_config,
                                          overwrite, show_output)

    def serialize(self) -> dict:
        """The version as v1 describes one."""
        return {"name": self.name, "version": self.version, "id": self.id, "tags": self.tags,
                "properties": self.properties, "framework": self.model_framework,
                "frameworkVersion": self.model_framework_version, "runId": self.run_id,
                "createdTime": self.created_time, "state": self.state}

    def __repr__(self) -> str:
        return (f"Model(workspace={self.workspace!r}, name={self.name}, id={self.id}, "
                f"version={self.version}, tags={self.tags}, properties={self.properties})")


def _resources(text: str) -> Any:
    from azureml.core.resource_configuration import ResourceConfiguration

    try:
        return ResourceConfiguration.deserialize(json.loads(text))
    except (ValueError, AttributeError):
        return None
