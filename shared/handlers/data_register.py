"""data-register: copy the upload into datasets/<name>/<version>/ and fingerprint it."""
from __future__ import annotations

import hashlib

from shared.domain.messages import DataRegistered, Envelope, RegisterData
from shared.domain.records import require, update
from shared.ports import BlobStore, Bus, Registry


def register_data(envelope: Envelope, *, blobs: BlobStore, registry: Registry,
                  bus: Bus) -> None:
    msg: RegisterData = envelope.message
    record = require(registry, "data", msg.name, msg.version)
    if record.body["state"] == "Registered":
        _announce(envelope, record.body, bus)  # a redelivery: the event may not have gone
        return
    files = blobs.list(msg.source)
    if not files:
        raise FileNotFoundError(f"upload {msg.source!r} is gone")
    base = msg.source if len(files) > 1 or files[0] != msg.source else msg.source.rsplit("/", 1)[0]
    target = f"datasets/{msg.name}/{msg.version}"
    digest = hashlib.sha256()
    for name in files:
        rel = name[len(base):].lstrip("/")
        data = blobs.get(name)
        blobs.put(f"{target}/{rel}", data)
        digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    path = f"{target}/{files[0][len(base):].lstrip('/')}" if msg.type == "uri_file" else target

    def registered(body: dict) -> None:
        body.update(state="Registered", path=path, fingerprint=digest.hexdigest(),
                    files=len(files))

    _announce(envelope, update(registry, "data", msg.name, msg.version, registered), bus)


def _announce(envelope: Envelope, body: dict, bus: Bus) -> None:
    # Named by the version, not derived from this envelope: the same registration sent
    # again under a new id announces nothing new.
    bus.publish(Envelope(DataRegistered(body["name"], body["version"], body["fingerprint"]),
                         id=f"data-{body['name']}-{body['version']}-registered",
                         correlation_id=envelope.correlation_id, causation_id=envelope.id))
