"""FileDataset: files (local, or in the workspace's datastore) that a run takes as a
folder, and that can be registered as a versioned data asset (`mlcycle data create`)."""
from __future__ import annotations

import glob
import os
import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Iterable

from azureml.data.dataset_consumption_config import DatasetConsumptionConfig
from azureml.exceptions import UserErrorException

DATA_SCHEMA = "https://azuremlschemas.azureedge.net/latest/data.schema.json"
DATASTORE_PREFIX = "azureml://datastores/"
_WEB = ("http://", "https://", "ftp://")
_WAIT_S = 300.0


class FileDataset:
    """A set of files. Made by `Dataset.File.from_files`, or read back by
    `Dataset.get_by_name`; `register` makes it a version of a named data asset."""

    def __init__(self, files: list[tuple[str, str]] | None = None, *, folder: str | None = None,
                 uri: str | None = None, name: str | None = None, version: str | None = None,
                 description: str | None = None, tags: dict | None = None,
                 workspace: Any = None) -> None:
        self._files, self._folder, self._uri = files, folder, uri
        self.name, self.version = name, version
        self.description, self.tags = description, dict(tags or {})
        self._workspace = workspace

    @property
    def id(self) -> str | None:
        """`name:version` once registered."""
        return f"{self.name}:{self.version}" if self.name and self.version else None

    @staticmethod
    def _from_paths(path: Any, validate: bool = True) -> "FileDataset":
        paths = [path] if isinstance(path, (str, os.PathLike, tuple)) else list(path)
        remote = [p for p in paths if isinstance(p, str) and "://" in p]
        for p in paths:
            _refuse(p, remote, len(paths))
        if remote:
            return FileDataset(uri=remote[0])
        found = [m for p in paths for m in _expand(os.fspath(p), validate)]
        if len(found) == 1 and os.path.isdir(found[0]):
            return FileDataset(list(_walk(found[0], found[0])), folder=found[0])
        if not found:
            raise UserErrorException("Dataset.File.from_files: no paths given")
        base = os.path.commonpath([os.path.dirname(f) if os.path.isfile(f) else f for f in found])
        if len(found) > 1 and base in found:  # a folder and what is inside it
            base = os.path.dirname(base)
        files: dict[str, str] = {}
        for f in found:
            for source, rel in _walk(f, base):
                files.setdefault(rel, source)
        return FileDataset(sorted(((s, r) for r, s in files.items()), key=lambda p: p[1]))

    def to_path(self) -> list[str]:
        """The dataset's files, relative to its root, each with a leading `/`.

        Raises:
            UserErrorException: the dataset was read back by name or names a datastore
                path, so its files are not known here.
        """
        if self._files is None:
            raise UserErrorException(
                f"to_path(): the files of {self.id or self._uri} are not known to this "
                "client (the API lists a data asset's files for runs only); use the "
                "FileDataset that from_files made, or read them inside a run")
        return sorted("/" + rel for _, rel in self._files)

    def as_named_input(self, name: str) -> DatasetConsumptionConfig:
        """This dataset as the run input `name`."""
        return DatasetConsumptionConfig(name, self)

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """This dataset mounted as a folder, as an input named after it."""
        return DatasetConsumptionConfig(self.name or "input_dataset", self, "mount",
                                        path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """This dataset downloaded into a folder, as an input named after it."""
        return DatasetConsumptionConfig(self.name or "input_dataset", self, "download",
                                        path_on_compute)

    def download(self, target_path: str | None = None, overwrite: bool = False) -> list[str]:
        """Copy the files into target_path (default: a new temporary folder); returns
        their paths."""
        target = Path(target_path or tempfile.mkdtemp(prefix="azureml-dataset-"))
        copied = []
        for source, rel in self._local_files("download()"):
            dest = target / rel
            if dest.exists() and not overwrite:
                raise UserErrorException(f"{dest} already exists; pass overwrite=True")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            copied.append(str(dest))
        return copied

    def register(self, workspace: Any, name: str, description: str | None = None,
                 tags: dict | None = None, create_new_version: bool = False) -> "FileDataset":
        """Register the files as a new version of the data asset name, and wait until it
        is registered.

        Raises:
            UserErrorException: name is registered and create_new_version is False, the
                dataset is itself a registered asset, or the registration failed.
        """
        from azureml.core._connection import quote

        conn = workspace._conn
        route = f"/api/data/{quote(name)}/versions"
        if not create_new_version and conn.get_or_none(f"{route}/latest") is not None:
            raise UserErrorException(
                f'There is already a dataset registered under name "{name}". Specify '
                "`create_new_version=True` to register the dataset as a new version.")
        if self._files is None and self._uri is None:
            raise UserErrorException(f"dataset {self.id} is a registered asset already; "
                                     "a data asset is registered from files")
        with ExitStack() as stack:
            spec = {"$schema": DATA_SCHEMA, "name": name, "type": "uri_folder",
                    "path": self._reference(stack), "description": description,
                    "tags": {str(k): str(v) for k, v in (tags or {}).items()}}
            created = conn.submit("/api/data", {k: v for k, v in spec.items() if v})
        final = conn.wait(lambda: conn.json("GET", f"{route}/{quote(created['version'])}"),
                          lambda d: d.get("state") != "Registering",
                          what=f"dataset {name}:{created['version']}", timeout=_WAIT_S)
        if final.get("state") != "Registered":
            raise UserErrorException(f"dataset {name}:{final['version']} failed to register: "
                                     f"{(final.get('error') or {}).get('message', final)}")
        return FileDataset(self._files, folder=self._folder, uri=self._uri, name=name,
                           version=str(final["version"]), description=description,
                           tags=final.get("tags"), workspace=workspace)

    def _reference(self, stack: ExitStack) -> str:
        """What a v2 spec names these files by: the registered asset, the datastore URI,
        or a local folder (made of links to the files, alive while stack is)."""
        if self.id:
            return f"azureml:{self.name}:{self.version}"
        if self._uri:
            return self._uri
        if self._folder:
            return self._folder
        holder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="azureml-ds-")))
        folder = holder / "dataset"
        for source, rel in self._local_files("a run"):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(source, folder / rel)
        return str(folder)

    def _local_files(self, what: str) -> list[tuple[str, str]]:
        if self._files is None:
            raise UserErrorException(f"{what} needs the dataset's local files; "
                                     f"{self.id or self._uri} has none here")
        return self._files

    def __repr__(self) -> str:
        return f"FileDataset(name={self.name!r}, version={self.version!r})"


def _refuse(path: Any, remote: list[str], count: int) -> None:
    if isinstance(path, tuple):
        raise UserErrorException("Dataset.File.from_files: (datastore, path) pairs are not "
                                 "supported here; give local paths, or an "
                                 f"{DATASTORE_PREFIX}workspaceblobstore/paths/... URI")
    text = os.fspath(path)
    if text.lower().startswith(_WEB):
        raise UserErrorException(
            f"Dataset.File.from_files: {text} is a web URL, and this mlcycle host fetches "
            "nothing from the web. Download the files and give their local paths.")
    if "://" in text and not text.startswith(DATASTORE_PREFIX):
        raise UserErrorException(f"Dataset.File.from_files: {text} cannot be reached from "
                                 "this host; give local paths, or an "
                                 f"{DATASTORE_PREFIX}workspaceblobstore/paths/... URI")
    if remote and count > 1:
        raise UserErrorException("Dataset.File.from_files: a datastore URI must be the "
                                 "only path of its dataset")


def _expand(path: str, validate: bool) -> list[str]:
    path = os.path.abspath(os.path.expanduser(path))
    if glob.has_magic(path):
        matches = sorted(glob.glob(path, recursive=True))
        if not matches and validate:
            raise UserErrorException(f"Dataset.File.from_files: no file matches {path}")
        return matches
    if validate and not os.path.exists(path):
        raise UserErrorException(f"Dataset.File.from_files: {path} does not exist")
    return [path]


def _walk(path: str, base: str) -> Iterable[tuple[str, str]]:
    """(file, its path relative to base) for path, or for each file under it."""
    if os.path.isfile(path):
        yield path, os.path.relpath(path, base)
        return
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            yield os.path.join(folder, name), os.path.relpath(os.path.join(folder, name), base)
