"""One settlement policy, two modes: the same failure of the same handler is retried
after the same delays, dead-lettered with the same reason, and ends its record with the
same message, whether the local queue workers settle it over the SQLite bus or the
Azure trigger forwards it over Service Bus.

Both modes run the real trigger function of `function_app` for the deploy queue, the
real deploy handler on a real local registry, and the real gave-up hook. Locally the
queue workers deliver from a SqliteBus on a clock the test moves; on Azure the messages
reach the trigger as the Python worker builds them, and the bus is the real
ServiceBusBus over the SDK-boundary fake of tests/unit/test_servicebus_bus.py."""
from __future__ import annotations

import sqlite3

import pytest

from shared.adapters.local_blob import LocalBlobStore
from shared.adapters.servicebus_bus import ServiceBusBus
from shared.adapters.sqlite_bus import SqliteBus
from shared.adapters.sqlite_registry import SqliteRegistry
from shared.bootstrap import Container, SystemClock, install
from shared.domain.messages import DeployModel, Envelope
from shared.handlers.gave_up import gave_up_hook
from shared.localhost.workers import QueueWorkers
from shared.ports import Record
from shared.settings import Settings
from tests.integration.test_functions_settlement import call, delivered, trigger
from tests.unit.test_servicebus_bus import NOW, FakeNamespace

QUEUE = "deploy"
MAX_DELIVERIES, BACKOFF_S, MAX_BACKOFF_S = 3, 2.0, 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def container(tmp_path, bus, *, forwards: bool) -> Container:
    built = Container(settings=Settings(tmp_path / "data"),
                      blobs=LocalBlobStore(tmp_path / "blobs"), bus=bus,
                      registry=SqliteRegistry(tmp_path / "registry.db"), compute=None,
                      clock=SystemClock(), scorer=None, forwards_failures=forwards)
    install(built)
    return built


def local_mode(tmp_path, envelope: Envelope, prepare) -> dict:
    """Deliver until the local queue workers have settled the message for good."""
    clock = Clock()
    bus = SqliteBus(tmp_path / "bus.db", max_deliveries=MAX_DELIVERIES, backoff_s=BACKOFF_S,
                    max_backoff_s=MAX_BACKOFF_S, now=clock)
    world = container(tmp_path, bus, forwards=False)
    prepare(world.registry)
    workers = QueueWorkers(bus, [trigger(QUEUE)], gave_up=gave_up_hook(world.ports))
    bus.publish(envelope)
    retries = []
    while (received := bus.receive(QUEUE)) is not None:
        workers.deliver(trigger(QUEUE), received)
        with sqlite3.connect(bus.path) as db:
            waiting = db.execute("SELECT last_reason, visible_at FROM messages").fetchone()
        if waiting is not None:
            retries.append((waiting[0], waiting[1] - clock.now))
            clock.now = waiting[1]
    return outcome(world, retries)


def azure_mode(tmp_path, envelope: Envelope, prepare) -> dict:
    """Deliver as the Functions host does until the trigger has parked the message or
    stopped sending retry copies."""
    namespace = FakeNamespace()
    bus = ServiceBusBus(namespace.client, max_deliveries=MAX_DELIVERIES, backoff_s=BACKOFF_S,
                        max_backoff_s=MAX_BACKOFF_S, now=lambda: NOW)
    world = container(tmp_path, bus, forwards=True)
    prepare(world.registry)
    message = delivered(envelope.to_json().encode(), message_id=envelope.id,
                        properties={"type": envelope.type})
    retries = []
    while message is not None:
        call(QUEUE, message)
        copies = namespace.sent.get(QUEUE, [])
        if len(copies) == len(retries):
            break
        copy = copies[-1]
        properties = copy.application_properties
        retries.append((properties["last_error"],
                        (copy.scheduled_enqueue_time_utc - NOW).total_seconds()))
        message = delivered(b"".join(copy.body), message_id=copy.message_id,
                            properties={"type": envelope.type, "attempt": properties["attempt"]})
    return outcome(world, retries)


def outcome(world: Container, retries: list) -> dict:
    dead = world.bus.dead_letters(QUEUE)
    deployment = world.registry.get("deployment", "e/blue")
    install(None)
    return {"retries": retries,
            "dead_letters": [(d["reason"], d["delivery_count"]) for d in dead],
            "deployment": deployment and (deployment.body["state"],
                                          (deployment.body.get("error") or {}).get("message"))}


def deployment_of(model_state: str | None, *, pinned: bool = True):
    """A deployment being created for m:1 (or, not pinned, for m@latest), and m:1 in
    model_state (None: no such model)."""
    def prepare(registry) -> None:
        ref = {"version": "1", "label": None} if pinned else {"version": None,
                                                              "label": "latest"}
        registry.put(Record("deployment", "e/blue", "", {
            "name": "blue", "endpoint": "e", "model": "m", "state": "Creating",
            "model_ref": ref}), etag="")
        if model_state is not None:
            registry.put(Record("model", "m", "1", {"name": "m", "version": "1",
                                                    "state": model_state}), etag="")
    return prepare


@pytest.fixture
def both(tmp_path):
    def run(prepare) -> tuple[dict, dict]:
        envelope = Envelope(DeployModel("e", "blue"), correlation_id="e")
        return (local_mode(tmp_path / "local", envelope, prepare),
                azure_mode(tmp_path / "azure", envelope, prepare))
    yield run
    install(None)


def test_a_transient_failure_is_retried_after_the_same_delays_with_the_same_reason(both):
    # A model that has no versions (yet) is worth a retry, every time here. (One still
    # converting is not: the deployment waits for its ModelConverted instead.)
    local, azure = both(deployment_of(None, pinned=False))
    reason = "TransientError: model 'm' has no versions yet"
    assert local["retries"] == azure["retries"] == [(reason, 2.0), (reason, 4.0)]


def test_the_last_attempt_dead_letters_and_ends_the_record_with_one_reason_in_both_modes(
        both):
    local, azure = both(deployment_of(None, pinned=False))
    reason = "MaxDeliveryCountExceeded: TransientError: model 'm' has no versions yet"
    assert local["dead_letters"] == azure["dead_letters"] == [(reason, MAX_DELIVERIES)]
    assert local["deployment"] == azure["deployment"] == (
        "Failed", f"gave up on DeployModel ({reason})")


def test_a_permanent_error_dead_letters_at_once_with_one_reason_in_both_modes(both):
    local, azure = both(deployment_of(None))
    reason = "NotFound: model 'm:1' does not exist"
    assert local["retries"] == azure["retries"] == []
    assert local["dead_letters"] == azure["dead_letters"] == [(reason, 1)]
    assert local["deployment"] == azure["deployment"] == (
        "Failed", f"gave up on DeployModel ({reason})")
