"""Put Block and Put Block List: a large upload arrives in blocks, staged beside the
store, and becomes its blob only when the list of blocks is committed."""
from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET

from shared.domain.errors import InvalidSpec, NotFound
from shared.ports import BlobStore

STAGING = "staging"  # a BlobStore container of its own: never listed with the blobs
MAX_BLOCK_ID = 64  # bytes, before base64, as the Blob service allows


def stage(blobs: BlobStore, path: str, block_id: str, data: bytes, md5: str | None) -> None:
    check_md5(data, md5)
    blobs.put(_block(path, _checked_id(block_id)), data)


def commit(blobs: BlobStore, path: str, body: bytes) -> bytes:
    """Join the blocks the list names, in its order, into the blob at path; the staged
    blocks go. Returns the blob's bytes. Raises InvalidSpec for a malformed list and
    NotFound for a block that was never staged."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise InvalidSpec(f"the block list is not XML: {exc}") from None
    ids = [_checked_id(element.text or "") for element in root]
    if not ids:
        raise InvalidSpec("the block list names no blocks")
    missing = [i for i in ids if not blobs.exists(_block(path, i))]
    if missing:
        raise NotFound(f"blob {path!r}: block {missing[0]!r} was not staged")
    data = b"".join(blobs.get(_block(path, i)) for i in ids)
    blobs.put(path, data)
    for staged in blobs.list(_folder(path)):
        blobs.delete(staged)
    return data


def check_md5(data: bytes, md5: str | None) -> None:
    """The client's Content-MD5, when it sent one, must be the body's."""
    if md5 and base64.b64encode(hashlib.md5(data).digest()).decode() != md5:
        raise InvalidSpec("Content-MD5 does not match the body: the upload was damaged")


def _checked_id(block_id: str) -> str:
    try:
        raw = base64.b64decode(block_id, validate=True)
    except ValueError:
        raise InvalidSpec(f"block id {block_id!r} is not base64") from None
    if not raw or len(raw) > MAX_BLOCK_ID:
        raise InvalidSpec(f"block id {block_id!r} must be 1 to {MAX_BLOCK_ID} bytes")
    return block_id


def _folder(path: str) -> str:
    return f"{STAGING}/{hashlib.sha256(path.encode()).hexdigest()}"


def _block(path: str, block_id: str) -> str:
    return f"{_folder(path)}/{base64.b64decode(block_id).hex()}"
