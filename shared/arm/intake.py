"""The door's way into mlcycle's one intake: a request body becomes the Azure ML v2
YAML document it stands for, written to a temporary folder (with any files it needs
beside it) and accepted exactly as a dropped or CLI-submitted spec would be."""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Callable

import yaml

from shared.domain.errors import InvalidSpec
from shared.handlers.intake import accept_spec


def request_key(*parts: str | bytes) -> str:
    """The idempotency key of a request: the same put again is the same submission."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def accept_document(doc: dict, kind: str, *, key: str, ports: dict,
                    prepare: Callable[[Path], None] | None = None, **extra) -> dict:
    """Accept doc as a spec of kind; prepare(folder) writes the files it names.

    Raises:
        InvalidSpec: the intake refused it; the message names the problem (without
            the temporary file's name).
    """
    with tempfile.TemporaryDirectory(prefix=f"mlcycle-sdk-{kind}-") as tmp:
        root = Path(tmp)
        if prepare is not None:
            prepare(root)
        spec = root / f"{kind}.yml"
        spec.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        try:
            _, body = accept_spec(spec, root=root, key=key, kind=kind, blobs=ports["blobs"],
                                  registry=ports["registry"], bus=ports["bus"],
                                  clock=ports["clock"], **extra)
        except InvalidSpec as exc:
            raise type(exc)(str(exc).removeprefix(f"{kind}.yml: ")) from None
    return body
