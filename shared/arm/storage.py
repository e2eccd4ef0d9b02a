"""The subset of the Blob API that azure-storage-blob uses for azure-ai-ml's uploads and
downloads: Put Blob, Put Block, Put Block List, Get Blob (with ranges), Get Blob
Properties (HEAD), Set Blob Metadata, Delete Blob, and List Blobs, on the BlobStore port.
Requests are authorised by a signature in the URL (shared.arm.sas), as a SAS is."""
from __future__ import annotations

import base64
import hashlib
import re
from email.utils import formatdate

from shared.api.replies import Reply, error
from shared.arm import blocks
from shared.arm.call import Call, Unauthorized
from shared.arm.containers import Container, container
from shared.arm.listing import list_blobs
from shared.arm.sas import LIST, READ, WRITE, verify
from shared.domain.errors import InvalidSpec, MlcycleError, NotFound
from shared.ports import BlobStore, Record, Registry

VERSION = "2021-08-06"
META = "x-ms-meta-"


def serve(call: Call, ports: dict, path: str) -> Reply:
    """Errors come back as the Blob service's own XML with `x-ms-error-code`, which is
    what azure-storage-blob turns into ResourceNotFoundError and the like."""
    if not call.query.get("sig"):  # no signature: the same 401 as any keyless request
        return error(401, "Unauthorized", "a valid key is required")
    try:
        name, _, blob = path.partition("/")
        box = container(name)
        return _blob(call, ports, box, blob) if blob else _container(call, ports, box)
    except Unauthorized as exc:
        return _error(403, "AuthenticationFailed", str(exc))
    except NotFound as exc:
        code = "ContainerNotFound" if "container" in str(exc) else "BlobNotFound"
        return _error(404, code, str(exc))
    except (InvalidSpec, ValueError) as exc:
        return _error(400, "InvalidInput", str(exc))
    except MlcycleError as exc:
        return _error(exc.status, exc.code, str(exc))


def _container(call: Call, ports: dict, box: Container) -> Reply:
    if call.query.get("restype") != "container":
        raise InvalidSpec("a container request needs restype=container")
    if call.query.get("comp") == "list" and call.method == "GET":
        _allow(call, ports, box, LIST)
        return list_blobs(call, box, ports["blobs"], _properties_of(ports))
    if call.method in ("GET", "HEAD"):
        _allow(call, ports, box, READ)
        return Reply(200, b"", _common({"ETag": '"0x1"', "Last-Modified": _date()}))
    raise InvalidSpec(f"{call.method} of a container is not supported here")


def _blob(call: Call, ports: dict, box: Container, name: str) -> Reply:
    blobs: BlobStore = ports["blobs"]
    path = box.blob(name)
    comp = call.query.get("comp", "")
    if call.method == "PUT":
        _allow(call, ports, box, WRITE)
        if comp == "block":
            blocks.stage(blobs, path, call.query.get("blockid", ""), call.body,
                         call.headers.get("content-md5"))
            return Reply(201, b"", _common({}))
        if comp == "blocklist":
            data = blocks.commit(blobs, path, call.body)
            return _written(ports, path, data, call.headers, status=201)
        if comp == "metadata":
            _require(blobs, path)
            _set_metadata(ports["registry"], path, _metadata(call.headers))
            return Reply(200, b"", _common({"ETag": _etag(blobs.get(path))}))
        if comp:
            raise InvalidSpec(f"comp={comp} is not supported here")
        if call.headers.get("x-ms-blob-type", "BlockBlob") != "BlockBlob":
            raise InvalidSpec("only block blobs are supported")
        blocks.check_md5(call.body, call.headers.get("content-md5"))
        blobs.put(path, call.body)
        return _written(ports, path, call.body, call.headers, status=201)
    if call.method in ("GET", "HEAD"):
        _allow(call, ports, box, READ)
        data = _read(ports, box, path)
        headers = _blob_headers(ports["registry"], path, data)
        if call.method == "HEAD":
            return Reply(200, b"", {**headers, "Content-Length": str(len(data))})
        return _ranged(call, data, headers)
    if call.method == "DELETE":
        _allow(call, ports, box, WRITE)
        _require(blobs, path)
        blobs.delete(path)
        ports["registry"].delete("blob", path)
        return Reply(202, b"", _common({}))
    raise InvalidSpec(f"{call.method} of a blob is not supported here")


def _allow(call: Call, ports: dict, box: Container, permission: str) -> None:
    if permission not in box.permissions:
        raise Unauthorized(f"container {box.name!r} is read only")
    verify(ports["settings"].api_key, box.name, permission, call.query)


def _read(ports: dict, box: Container, path: str) -> bytes:
    blobs: BlobStore = ports["blobs"]
    if blobs.exists(path):
        return blobs.get(path)
    if box.run_id and (live := _live_log(ports, box, path)) is not None:
        return live
    raise NotFound(f"blob {path.removeprefix(box.prefix)!r} does not exist")


def _live_log(ports: dict, box: Container, path: str) -> bytes | None:
    """A running job's log is on its node until the run ends: read it from there."""
    m = re.fullmatch(r"user_logs/std_log_process_(\d+)\.txt", path.removeprefix(box.prefix))
    if m is None:
        return None
    from shared.arm.history import live_log

    return live_log(ports, box.run_id, int(m[1]))


def _ranged(call: Call, data: bytes, headers: dict) -> Reply:
    wanted = call.headers.get("x-ms-range") or call.headers.get("range") or ""
    m = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted.strip())
    if m is None:
        return Reply(200, data, headers)
    start = int(m[1])
    end = min(int(m[2]) if m[2] else len(data) - 1, len(data) - 1)
    if start >= len(data) and data:
        return _error(416, "InvalidRange", "the range is beyond the blob's end")
    part = data[start:end + 1]
    return Reply(206, part, {**headers, "Content-Range": f"bytes {start}-{max(end, start)}/"
                                                         f"{len(data)}"})


def _written(ports: dict, path: str, data: bytes, headers: dict, *, status: int) -> Reply:
    meta = _metadata(headers)
    if meta:
        _set_metadata(ports["registry"], path, meta)
    else:  # a blob written again loses the metadata it had, as in Azure
        ports["registry"].delete("blob", path)
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    return Reply(status, b"", _common({"ETag": _etag(data), "Last-Modified": _date(),
                                       "Content-MD5": md5, "x-ms-request-server-encrypted":
                                       "true"}))


def _blob_headers(registry: Registry, path: str, data: bytes) -> dict:
    record = registry.get("blob", path)
    meta = record.body.get("metadata", {}) if record else {}
    return _common({"ETag": _etag(data), "Last-Modified": _date(),
                    "Content-Type": "application/octet-stream", "x-ms-blob-type": "BlockBlob",
                    "Accept-Ranges": "bytes", "x-ms-creation-time": _date(),
                    **{f"{META}{k}": v for k, v in meta.items()}})


def _properties_of(ports: dict):
    registry: Registry = ports["registry"]

    def metadata(path: str) -> dict:
        record = registry.get("blob", path)
        return record.body.get("metadata", {}) if record else {}
    return metadata


def _metadata(headers: dict) -> dict:
    return {k[len(META):]: v for k, v in headers.items() if k.startswith(META)}


def _set_metadata(registry: Registry, path: str, meta: dict) -> None:
    registry.put(Record("blob", path, "", {"metadata": meta}))


def _require(blobs: BlobStore, path: str) -> None:
    if not blobs.exists(path):
        raise NotFound(f"blob {path!r} does not exist")


def _etag(data: bytes) -> str:
    return f'"0x{hashlib.sha256(data).hexdigest()[:16].upper()}"'


def _date() -> str:
    return formatdate(usegmt=True)


def _common(headers: dict) -> dict:
    return {"x-ms-version": VERSION, "x-ms-request-id": hashlib.sha1(
        repr(headers).encode()).hexdigest()[:32], **headers}


def _error(status: int, code: str, message: str) -> Reply:
    body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
            f"<Message>{_xml(message)}</Message></Error>").encode()
    return Reply(status, body, _common({"x-ms-error-code": code,
                                        "Content-Type": "application/xml"}))


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ROUTES = [(method, "{*path}", serve) for method in ("GET", "HEAD", "PUT", "DELETE")]
