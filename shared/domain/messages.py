"""Commands (imperative) and events (past tense) that travel on the queues.

Messages are frozen dataclasses of JSON-friendly fields: ids and blob paths, never data.
An `Envelope` carries one message with the metadata DESIGN.md names.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar

from shared.domain.errors import PermanentError

REGISTRY: dict[str, type["Message"]] = {}


@dataclass(frozen=True)
class Message:
    queue: ClassVar[str | None] = None  # the queue it is delivered to; None: event log only

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        REGISTRY[cls.__name__] = cls


# --- commands and the events that trigger further work -------------------------------

@dataclass(frozen=True)
class RegisterData(Message):
    queue: ClassVar[str] = "data-register"
    name: str
    version: str
    source: str  # blob path of the uploaded file or folder
    type: str = "uri_folder"
    description: str = ""
    tags: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DataRegistered(Message):
    name: str
    version: str
    fingerprint: str


@dataclass(frozen=True)
class JobSubmitted(Message):
    queue: ClassVar[str] = "compute-scale"
    run_id: str
    compute: str


@dataclass(frozen=True)
class ScalePool(Message):
    queue: ClassVar[str] = "compute-scale"
    compute: str


@dataclass(frozen=True)
class PoolScaled(Message):
    compute: str
    nodes: int
    reason: str


@dataclass(frozen=True)
class LaunchJob(Message):
    queue: ClassVar[str] = "job-launch"
    run_id: str


@dataclass(frozen=True)
class JobLaunched(Message):
    run_id: str


@dataclass(frozen=True)
class JobStarted(Message):
    queue: ClassVar[str] = "job-complete"
    run_id: str
    started_at: str


@dataclass(frozen=True)
class CompleteJob(Message):
    """The compute says a run's processes have ended (or vanished): collect them."""

    queue: ClassVar[str] = "job-complete"
    run_id: str


@dataclass(frozen=True)
class JobCompleted(Message):
    run_id: str


@dataclass(frozen=True)
class JobFailed(Message):
    run_id: str
    exit_code: int | None
    error: str


@dataclass(frozen=True)
class AdvanceSweep(Message):
    """Look at a sweep's trials again: start the next ones, stop the ones its policy
    stops, and end the sweep when they are done. Sent when it is accepted, when one of
    its trials ends, and by the sweep timer while it runs."""

    queue: ClassVar[str] = "sweep"
    run_id: str


@dataclass(frozen=True)
class RegisterModel(Message):
    queue: ClassVar[str] = "model-register"
    name: str
    source: str  # blob path (file or folder)
    version: str = ""  # empty: allocate the next one
    type: str = "custom_model"
    framework: str = ""
    framework_version: str = ""
    run_id: str = ""
    description: str = ""
    tags: dict = field(default_factory=dict)
    properties: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ModelRegistered(Message):
    queue: ClassVar[str] = "onnx-convert"
    name: str
    version: str


@dataclass(frozen=True)
class ModelConverted(Message):
    queue: ClassVar[str] = "deploy"
    name: str
    version: str


@dataclass(frozen=True)
class ConversionFailed(Message):
    """Delivered to `deploy` so that endpoints following the model show the failure."""

    queue: ClassVar[str] = "deploy"
    name: str
    version: str
    reason: str


@dataclass(frozen=True)
class DeployModel(Message):
    queue: ClassVar[str] = "deploy"
    endpoint: str
    deployment: str


@dataclass(frozen=True)
class ModelDeployed(Message):
    endpoint: str
    deployment: str
    model: str
    version: str


# --- the envelope ----------------------------------------------------------------------

def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


@dataclass(frozen=True)
class Envelope:
    message: Message
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    correlation_id: str = ""
    causation_id: str = ""
    created_at: str = field(default_factory=_now)

    @property
    def type(self) -> str:
        return type(self.message).__name__

    @property
    def queue(self) -> str | None:
        return type(self.message).queue

    def follow(self, message: Message, key: str = "") -> "Envelope":
        """The envelope of a message this one caused. Its id is derived from this one's,
        so handling a redelivered message sends duplicates that the bus drops."""
        derived = hashlib.sha256(f"{self.id}|{type(message).__name__}|{key}".encode())
        return Envelope(message, id=derived.hexdigest()[:32],
                        correlation_id=self.correlation_id, causation_id=self.id)

    def to_json(self) -> str:
        return json.dumps({
            "id": self.id, "type": self.type, "correlation_id": self.correlation_id,
            "causation_id": self.causation_id, "created_at": self.created_at,
            "payload": dataclasses.asdict(self.message)})

    @classmethod
    def from_json(cls, body: str | bytes) -> "Envelope":
        try:
            raw = json.loads(body)
            message_type = REGISTRY[raw["type"]]
            message = message_type(**raw["payload"])
            return cls(message, id=raw["id"], correlation_id=raw.get("correlation_id", ""),
                       causation_id=raw.get("causation_id", ""),
                       created_at=raw.get("created_at", ""))
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentError(f"malformed message envelope: {exc!r}") from exc
