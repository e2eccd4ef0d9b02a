"""Dataset: where v1 code makes and finds datasets (`Dataset.File.from_files`,
`Dataset.get_by_name`). Tabular datasets are not provided."""
from __future__ import annotations

from typing import Any

from azureml.data.file_dataset import FileDataset
from azureml.exceptions import UserErrorException


class _FileFactory:
    """`Dataset.File`: makes FileDatasets."""

    @staticmethod
    def from_files(path: Any, validate: bool = True, partition_format: str | None = None,
                   is_file: bool = False) -> FileDataset:
        """A FileDataset of local files and folders (globs allowed), or of one
        `azureml://datastores/workspaceblobstore/paths/...` URI.

        Parameters:
            path: a path or a list of them.
            validate: check now that every local path exists.
        Raises:
            UserErrorException: a web URL (this host fetches nothing from the web), a
                storage this host cannot reach, or a local path that does not exist.
        """
        return FileDataset._from_paths(path, validate)


class Dataset:
    """Datasets of a workspace."""

    File = _FileFactory

    @staticmethod
    def get_by_name(workspace: Any, name: str, version: str | int = "latest") -> FileDataset:
        """The registered dataset name (its newest version, or version).

        Raises:
            UserErrorException: no such dataset (or version) is registered.
        """
        from azureml.core._connection import quote

        record = workspace._conn.get_or_none(
            f"/api/data/{quote(name)}/versions/{quote(str(version))}")
        if record is None or record.get("state") != "Registered":
            raise UserErrorException(f"Cannot find dataset registered with name '{name}' "
                                     f"(version: {version}) in the workspace.")
        return FileDataset(name=record["name"], version=str(record["version"]),
                           description=record.get("description"), tags=record.get("tags"),
                           workspace=workspace)
