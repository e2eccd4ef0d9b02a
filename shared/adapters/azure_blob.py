"""AzureBlobStore: the BlobStore port on Azure Blob Storage (azure-storage-blob)."""
from __future__ import annotations

import io
import uuid
from base64 import b64encode
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import (BlobBlock, BlobClient, BlobSasPermissions, BlobServiceClient,
                                ContainerSasPermissions, generate_blob_sas,
                                generate_container_sas)

from shared.domain.errors import NotFound, PermanentError

BLOCK_SIZE = 4 * 1024 * 1024
MAX_SAS_TTL_S = 7 * 24 * 3600  # the longest a user delegation key may live
_CLOCK_SKEW = timedelta(minutes=5)  # a SAS starts a little early: the caller's clock may lag


class AzureBlobStore:
    """Blob paths are "<container>/<name>": the first segment names the container.

    Writes are atomic as the port asks: data up to `block_size` goes in one Put Blob,
    anything larger is staged in blocks and made visible by one Put Block List, so a
    reader sees the old blob or the whole new one. A container that does not exist yet is
    created on the first write to it (Azurite starts empty; in Azure the infra makes them).

    Built from a BlobServiceClient: `from_connection_string` (Azurite, development) or
    `from_account_url` with a token credential (managed identity in Azure). SAS URLs are
    signed with the account key in the first case, with a user delegation key otherwise.
    """

    def __init__(self, service: BlobServiceClient, *, block_size: int = BLOCK_SIZE) -> None:
        self.service = service
        self.block_size = block_size

    @classmethod
    def from_connection_string(cls, connection_string: str, **kw) -> "AzureBlobStore":
        return cls(BlobServiceClient.from_connection_string(connection_string), **kw)

    @classmethod
    def from_account_url(cls, account_url: str, credential, **kw) -> "AzureBlobStore":
        return cls(BlobServiceClient(account_url, credential=credential), **kw)

    # --- the port ----------------------------------------------------------------------

    def put(self, path: str, data: bytes) -> None:
        self._write(path, lambda: io.BytesIO(data))

    def put_file(self, path: str, src: Path) -> None:
        self._write(path, lambda: open(src, "rb"))

    def get(self, path: str) -> bytes:
        try:
            return self._blob(path).download_blob().readall()
        except ResourceNotFoundError:
            raise NotFound(f"blob {path!r} does not exist") from None

    def exists(self, path: str) -> bool:
        try:
            return self._blob(path).exists()
        except NotFound:
            return False

    def list(self, prefix: str) -> list[str]:
        container, name = _split(prefix)
        client = self.service.get_container_client(container)
        try:
            # One listing covers both cases the port allows: prefix is a file, or a folder.
            found = [b.name for b in client.list_blobs(name_starts_with=name)
                     if not name or b.name == name or b.name.startswith(name + "/")]
        except ResourceNotFoundError:
            return []
        return sorted(f"{container}/{n}" for n in found)

    def delete(self, path: str) -> None:
        try:
            self._blob(path).delete_blob()
        except ResourceNotFoundError:
            pass

    def upload_dir(self, src: Path, prefix: str) -> None:
        for file in sorted(Path(src).rglob("*")):
            if file.is_file():
                self.put_file(f"{prefix.rstrip('/')}/{file.relative_to(src).as_posix()}", file)

    def download(self, prefix: str, dest: Path) -> None:
        dest = Path(dest)
        base = PurePosixPath(*_split(prefix))
        names = self.list(prefix)
        if names == [base.as_posix()]:
            self._download_one(names[0], dest)
            return
        if not names:
            raise NotFound(f"nothing stored under {prefix!r}")
        for name in names:
            self._download_one(name, dest / PurePosixPath(name).relative_to(base))

    def local_path(self, path: str) -> Path | None:
        return None

    # --- SAS ---------------------------------------------------------------------------

    def sas_url(self, path: str, *, write: bool, ttl_s: float) -> str:
        """A URL that grants short-lived access to one blob, or to a whole container when
        path is a container name alone (Azure Batch stages folders and uploads outputs
        through container URLs).

        write=False: read only (inputs): r for a blob, r+l for a container.
        write=True: create and write only (outputs): cw; the holder can neither read nor
        list what is there.

        Raises PermanentError if ttl_s is not between 0 and 7 days.
        """
        if not 0 < ttl_s <= MAX_SAS_TTL_S:
            raise PermanentError(f"a SAS lives between 0 s and {MAX_SAS_TTL_S} s, not {ttl_s}")
        start = datetime.now(timezone.utc) - _CLOCK_SKEW
        expiry = start + _CLOCK_SKEW + timedelta(seconds=ttl_s)
        signing = self._signing_key(start, expiry)
        container, name = _split(path)
        if not name:
            permission = ContainerSasPermissions(read=not write, list=not write,
                                                 create=write, write=write)
            token = generate_container_sas(self.service.account_name, container,
                                           permission=permission, start=start, expiry=expiry,
                                           **signing)
            return f"{self.service.get_container_client(container).url}?{token}"
        permission = BlobSasPermissions(read=not write, create=write, write=write)
        token = generate_blob_sas(self.service.account_name, container, name,
                                  permission=permission, start=start, expiry=expiry, **signing)
        return f"{self._blob(path).url}?{token}"

    def _signing_key(self, start: datetime, expiry: datetime) -> dict:
        account_key = getattr(self.service.credential, "account_key", None)
        if account_key:
            return {"account_key": account_key}
        # A token credential has no key to sign with: Azure lends a user delegation key
        # that lives no longer than the SAS it signs.
        return {"user_delegation_key": self.service.get_user_delegation_key(start, expiry)}

    # --- internals ---------------------------------------------------------------------

    def _blob(self, path: str) -> BlobClient:
        container, name = _split(path)
        if not name:
            raise NotFound(f"blob path {path!r} names a container, not a blob")
        return self.service.get_blob_client(container, name)

    def _write(self, path: str, opener: Callable[[], BinaryIO]) -> None:
        blob = self._blob(path)
        try:
            with opener() as stream:
                self._upload(blob, stream)
        except ResourceNotFoundError as exc:
            if exc.error_code != "ContainerNotFound":
                raise
            try:
                self.service.create_container(blob.container_name)
            except ResourceExistsError:
                pass  # another writer made it meanwhile
            with opener() as stream:
                self._upload(blob, stream)

    def _upload(self, blob: BlobClient, stream: BinaryIO) -> None:
        chunk, ahead = stream.read(self.block_size), stream.read(self.block_size)
        if not ahead:
            blob.upload_blob(chunk, overwrite=True)
            return
        # Block ids are unique per upload: two writers racing on one blob each commit only
        # their own blocks, and the last commit wins whole.
        upload = uuid.uuid4().hex
        blocks: list[BlobBlock] = []
        while chunk:
            block_id = b64encode(f"{upload}-{len(blocks):06d}".encode()).decode()
            blob.stage_block(block_id, chunk)
            blocks.append(BlobBlock(block_id=block_id))
            chunk, ahead = ahead, stream.read(self.block_size) if ahead else b""
        blob.commit_block_list(blocks)

    def _download_one(self, path: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(dest, "wb") as f:
                self._blob(path).download_blob().readinto(f)
        except ResourceNotFoundError:
            dest.unlink(missing_ok=True)
            raise NotFound(f"blob {path!r} does not exist") from None


def _split(path: str) -> tuple[str, str]:
    """"<container>/<name>" -> (container, name); name is "" for a container alone."""
    parts = PurePosixPath(path.strip("/")).parts
    if not parts or any(p in ("..", ".") for p in parts):
        raise PermanentError(f"invalid blob path {path!r}")
    return parts[0], "/".join(parts[1:])
