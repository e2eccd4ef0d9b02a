"""Workspace: the mlcycle host that the v1 code talks to, found by its config.json."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from azureml.core._connection import Connection
from azureml.exceptions import UserErrorException

CONFIG_NAME = "config.json"
_NOT_MLCYCLE = ("{path} names no mlcycle endpoint and key: a config.json downloaded from "
                "Azure ML points at an Azure workspace; the one `mlcycle up` writes "
                "($MLCYCLE_HOME/config.json) points at mlcycle")


class Workspace:
    """An mlcycle host seen as an Azure ML workspace.

    Its `config.json` is the one `mlcycle up` writes: `endpoint` and `key` (mlcycle's own)
    beside Azure ML's `subscription_id`, `resource_group` and `workspace_name`.

    Parameters:
        subscription_id, resource_group, workspace_name: as Azure ML names a workspace;
            the endpoint and key come from `MLCYCLE_ENDPOINT`/`MLCYCLE_KEY` or
            `$MLCYCLE_HOME/config.json`, as for the `mlcycle` CLI.
        auth: accepted and not used (mlcycle's key is the credential).
    Raises:
        UserErrorException: no mlcycle endpoint is configured, or it serves another workspace.
    """

    def __init__(self, subscription_id: str | None = None, resource_group: str | None = None,
                 workspace_name: str | None = None, auth: Any = None, **kwargs: Any) -> None:
        from shared.cli.client import load_config
        from shared.cli.errors import CliError

        try:
            config = load_config()
        except CliError as exc:
            raise UserErrorException(str(exc)) from None
        stored = _read(_home_config()) if _home_config().is_file() else {}
        served = stored.get("workspace_name")
        if workspace_name and served and workspace_name != served:
            raise UserErrorException(f"workspace {workspace_name!r} is not served here: "
                                     f"{config.endpoint} serves workspace {served!r}")
        self._bind(Connection(config.endpoint, config.key),
                   subscription_id or stored.get("subscription_id"),
                   resource_group or stored.get("resource_group"),
                   workspace_name or served or "mlcycle")

    def _bind(self, conn: Connection, subscription_id: str | None, resource_group: str | None,
              name: str) -> None:
        self._conn = conn
        self._subscription_id, self._resource_group, self._name = (
            subscription_id or "", resource_group or "", name)

    @staticmethod
    def from_config(path: str | os.PathLike[str] | None = None, auth: Any = None,
                    _logger: Any = None, _file_name: str | None = None) -> "Workspace":
        """The workspace a config.json names: `path` itself if it is a file, else the
        first `config.json` (or `.azureml/config.json`) in path (default: the current
        folder) or a folder above it, else `$MLCYCLE_CONFIG` or `$MLCYCLE_HOME/config.json`.

        Raises:
            UserErrorException: no config file was found, or it names no mlcycle endpoint.
        """
        found = _find_config(Path(path) if path else Path.cwd(), _file_name or CONFIG_NAME)
        config = _read(found)
        endpoint, key = config.get("endpoint"), config.get("key")
        if not endpoint or not key:
            raise UserErrorException(_NOT_MLCYCLE.format(path=found))
        endpoint = str(endpoint).rstrip("/").removesuffix("/api")
        workspace = Workspace.__new__(Workspace)
        workspace._bind(Connection(endpoint, str(key)), config.get("subscription_id"),
                        config.get("resource_group"), config.get("workspace_name") or "mlcycle")
        print(f"Workspace configuration loaded from {found}")
        return workspace

    @staticmethod
    def get(name: str, auth: Any = None, subscription_id: str | None = None,
            resource_group: str | None = None, **kwargs: Any) -> "Workspace":
        """The workspace `name` on the configured mlcycle host (see the constructor)."""
        return Workspace(subscription_id, resource_group, name, auth)

    @property
    def name(self) -> str:
        """The workspace's name."""
        return self._name

    @property
    def subscription_id(self) -> str:
        """The subscription id config.json gives (mlcycle's placeholder by default)."""
        return self._subscription_id

    @property
    def resource_group(self) -> str:
        """The resource group config.json gives."""
        return self._resource_group

    @property
    def location(self) -> str:
        """Where the workspace is: the mlcycle host's endpoint."""
        return self._conn.endpoint

    @property
    def compute_targets(self) -> dict:
        """Compute pools by name."""
        from azureml.core.compute import ComputeTarget

        return {c.name: c for c in ComputeTarget.list(self)}

    @property
    def datasets(self) -> dict:
        """The newest version of each registered data asset, by name."""
        from azureml.core.dataset import Dataset

        names = {d["name"] for d in self._conn.json("GET", "/api/data").get("value", [])}
        return {n: Dataset.get_by_name(self, n) for n in sorted(names)}

    @property
    def environments(self) -> dict:
        """The newest version of each registered environment, by name."""
        from azureml.core.environment import Environment

        names = {e["name"] for e in self._conn.json("GET", "/api/environments").get("value", [])}
        return {n: Environment.get(self, n) for n in sorted(names)}

    @property
    def models(self) -> dict:
        """Registered models by name: every version of each, newest first."""
        from azureml.core.model import Model

        models: dict[str, list] = {}
        for model in Model.list(self):
            models.setdefault(model.name, []).append(model)
        return models

    def get_details(self) -> dict:
        """The workspace as Azure ML describes one, with mlcycle's endpoint."""
        return {"name": self.name, "subscriptionId": self.subscription_id,
                "resourceGroup": self.resource_group, "location": self.location,
                "endpoint": self._conn.endpoint}

    def write_config(self, path: str | None = None, file_name: str | None = None) -> None:
        """Write config.json (endpoint, key and workspace names), readable by its owner
        alone, into `path/.azureml/` (default: the current folder)."""
        from shared.private_files import private_dir

        folder = Path(path or ".") / ".azureml"
        private_dir(folder)
        target = folder / (file_name or CONFIG_NAME)
        body = {"endpoint": self._conn.endpoint, "key": self._conn.key,
                "subscription_id": self.subscription_id, "resource_group": self.resource_group,
                "workspace_name": self.name}
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(body, f, indent=2)

    def __repr__(self) -> str:
        return (f"Workspace.create(name={self.name!r}, subscription_id="
                f"{self.subscription_id!r}, resource_group={self.resource_group!r})")


def _home_config() -> Path:
    from shared.settings import mlcycle_home

    return Path(os.environ.get("MLCYCLE_CONFIG") or mlcycle_home() / CONFIG_NAME)


def _find_config(start: Path, file_name: str) -> Path:
    if start.is_file():
        return start
    for folder in [start.resolve(), *start.resolve().parents]:
        for candidate in (folder / file_name, folder / ".azureml" / file_name):
            if candidate.is_file():
                return candidate
    if _home_config().is_file():
        return _home_config()
    raise UserErrorException(
        f"We could not find {file_name} in: {start} or in its parent directories, nor "
        f"{_home_config()}. Give the full path to the config file, or run `mlcycle up`, "
        "which writes one.")


def _read(path: Path) -> dict:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserErrorException(f"cannot read {path}: {exc}") from None
    if not isinstance(config, dict):
        raise UserErrorException(f"cannot read {path}: expected a JSON object")
    return config
