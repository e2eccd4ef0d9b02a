"""List Blobs: the EnumerationResults XML of a container, with prefix and delimiter."""
from __future__ import annotations

from email.utils import formatdate
from typing import Callable
from xml.sax.saxutils import escape

from shared.api.replies import Reply
from shared.arm.call import Call
from shared.arm.containers import Container
from shared.ports import BlobStore

MAX_RESULTS = 5000


def list_blobs(call: Call, box: Container, blobs: BlobStore,
               metadata_of: Callable[[str], dict]) -> Reply:
    """Every blob of the container whose name starts with `prefix`; one page, as no
    listing here is large enough to need markers."""
    prefix = call.query.get("prefix", "")
    delimiter = call.query.get("delimiter", "")
    with_metadata = "metadata" in call.query.get("include", "")
    folder = box.prefix + prefix.rsplit("/", 1)[0] if "/" in prefix else box.prefix
    names = [p[len(box.prefix):] for p in blobs.list(folder.rstrip("/")) if
             p.startswith(box.prefix)]
    names = [n for n in names if n.startswith(prefix)]
    items, prefixes = [], []
    for name in names:
        if delimiter and delimiter in name[len(prefix):]:
            head = prefix + name[len(prefix):].split(delimiter, 1)[0] + delimiter
            if head not in prefixes:
                prefixes.append(head)
            continue
        path = box.blob(name)
        items.append(_blob_xml(name, path, blobs, metadata_of(path) if with_metadata else None))
    blob_prefixes = "".join(f"<BlobPrefix><Name>{escape(p)}</Name></BlobPrefix>"
                            for p in prefixes)
    body = ('<?xml version="1.0" encoding="utf-8"?>'
            f'<EnumerationResults ServiceEndpoint="{escape(call.base)}/api/storage/" '
            f'ContainerName="{escape(box.name)}"><Prefix>{escape(prefix)}</Prefix>'
            f"<MaxResults>{MAX_RESULTS}</MaxResults><Delimiter>{escape(delimiter)}</Delimiter>"
            f"<Blobs>{''.join(items)}{blob_prefixes}</Blobs><NextMarker /></EnumerationResults>")
    return Reply(200, body.encode(), {"Content-Type": "application/xml",
                                      "x-ms-version": "2021-08-06"})


def _blob_xml(name: str, path: str, blobs: BlobStore, metadata: dict | None) -> str:
    meta = "" if metadata is None else "<Metadata>" + "".join(
        f"<{k}>{escape(str(v))}</{k}>" for k, v in metadata.items()) + "</Metadata>"
    return (f"<Blob><Name>{escape(name)}</Name><Properties>"
            f"<Last-Modified>{formatdate(usegmt=True)}</Last-Modified>"
            f"<Content-Length>{_size(blobs, path)}</Content-Length>"
            "<Content-Type>application/octet-stream</Content-Type><BlobType>BlockBlob</BlobType>"
            f"</Properties>{meta}</Blob>")


def _size(blobs: BlobStore, path: str) -> int:
    local = blobs.local_path(path)
    return local.stat().st_size if local is not None else len(blobs.get(path))
