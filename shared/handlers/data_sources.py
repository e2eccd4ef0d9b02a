"""Where a data asset's files come from: a local path the spec names (uploaded first), or
a datastore path, `azureml://datastores/workspaceblobstore/paths/<path>`, naming files
already in the workspace's datastore (locally the folder `workspaceblobstore/` of the
blob store, `<data root>/blobs/workspaceblobstore/`). Anything else is refused with
what would work instead: this host fetches nothing from the web or other accounts."""
from __future__ import annotations

from pathlib import Path

from shared.domain.datastores import DATASTORE, datastore_blob, is_datastore_uri
from shared.domain.errors import InvalidSpec
from shared.handlers.uploads import upload_path
from shared.ports import BlobStore

ACCEPTED = ("a local file or folder, a file:// URL (from the CLI), or "
            f"azureml://datastores/{DATASTORE}/paths/<path>")
_OTHER_STORAGE = ("wasbs://", "wasb://", "abfss://", "abfs://", "adl://", "s3://", "gs://")


def data_source(spec, blobs: BlobStore) -> str:
    """The blob (a file) or prefix (a folder) that a data spec's files are copied from.

    Raises:
        InvalidSpec: a URL this host cannot read, a datastore path naming nothing, or
            files of the wrong kind for the spec's type.
    """
    if isinstance(spec.path, Path):
        return upload_path(spec.path, blobs)[0]
    text = str(spec.path)
    if is_datastore_uri(text):
        return _datastore_files(spec, text, blobs)
    raise InvalidSpec(f"data {spec.name}: path {text}: {_why_not(text)}")


def _datastore_files(spec, uri: str, blobs: BlobStore) -> str:
    blob = datastore_blob(uri)
    is_file, files = blobs.exists(blob), blobs.list(blob)
    if not files:
        raise InvalidSpec(f"data {spec.name}: nothing is stored at {uri} (locally: "
                          f"blobs/{blob} under the data root)")
    if spec.type == "uri_file" and not is_file:
        raise InvalidSpec(f"data {spec.name}: {uri} is a folder, but the data is a uri_file")
    if spec.type != "uri_file" and is_file:
        raise InvalidSpec(f"data {spec.name}: {uri} is a file, but the data is a {spec.type}")
    return blob


def _why_not(text: str) -> str:
    lower = text.lower()
    if lower.startswith(("http://", "https://")):
        return ("this host does not download from the web; download the file and give "
                f"its local path, or copy it into the datastore ({ACCEPTED})")
    if lower.startswith(_OTHER_STORAGE):
        return (f"only the workspace's own datastore, {DATASTORE}, is reachable from this "
                f"host; use {ACCEPTED}")
    if lower.startswith("file://"):
        return ("a file:// URL names a file on the client's machine, which the CLI "
                "uploads; a dropped spec names its files by a path relative to the spec, "
                f"or azureml://datastores/{DATASTORE}/paths/<path>")
    if lower.startswith("azureml:") and "://" not in lower:
        return f"a data asset is made from files, not from another asset; use {ACCEPTED}"
    return f"not a path this host can read; use {ACCEPTED}"
