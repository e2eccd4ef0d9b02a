"""How the function app's queue triggers settle a failed message on Azure, where the
Functions host completes whatever returns and Python cannot settle by hand: a transient
failure becomes a copy scheduled after the backoff, a permanent one (or the last
attempt) is parked with our reason, and a failure to forward raises so the host's own
retries keep the message.

The messages reach the real trigger functions of `function_app` as the Python worker
builds them (azure.functions' own converter over trigger metadata); the bus is the real
ServiceBusBus over the SDK-boundary fake of tests/unit/test_servicebus_bus.py; the
handlers run on the real local registry and blob store."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from azure.functions import meta
from azure.functions.servicebus import ServiceBusMessageInConverter

from shared.adapters.local_blob import LocalBlobStore
from shared.adapters.servicebus_bus import ServiceBusBus
from shared.adapters.servicebus_parking import PARKING_QUEUE
from shared.adapters.sqlite_registry import SqliteRegistry
from shared.bootstrap import Container, SystemClock, install
from shared.domain.messages import Envelope, LaunchJob
from shared.localhost.triggers import read_triggers
from shared.settings import Settings
from tests.unit.test_servicebus_bus import NOW, FakeNamespace


class UnreachableRegistry:
    """Table Storage down: every call fails the way a network error does."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("registry unreachable")
        return fail


class BrokenSender:
    def send_messages(self, message):
        raise ConnectionError("service bus unreachable")

    def close(self):
        pass


@pytest.fixture
def namespace():
    return FakeNamespace()


@pytest.fixture
def azure_like(tmp_path, namespace):
    """A container as bootstrap builds it for Azure: the host settles, triggers forward."""
    def build(registry=None, bus=None):
        bus = bus or ServiceBusBus(namespace.client, max_deliveries=3, backoff_s=2.0,
                                   max_backoff_s=5.0, now=lambda: NOW)
        container = Container(
            settings=Settings(tmp_path / "data"), blobs=LocalBlobStore(tmp_path / "blobs"),
            bus=bus, registry=registry or SqliteRegistry(tmp_path / "registry.db"),
            compute=None, clock=SystemClock(), scorer=None, forwards_failures=True)
        install(container)
        return container
    yield build
    install(None)


def trigger(queue: str):
    import function_app

    return next(t for t in read_triggers(function_app.app) if t.queue == queue)


def delivered(body: bytes, *, message_id: str, delivery_count: int = 1,
              properties: dict | None = None):
    """The func.ServiceBusMessage the Python worker hands the function."""
    metadata = {"MessageId": meta.Datum(message_id, "string"),
                "CorrelationId": meta.Datum("run-1", "string"),
                "DeliveryCount": meta.Datum(str(delivery_count), "string"),
                "ApplicationProperties": meta.Datum(json.dumps(properties or {}), "json"),
                "UserProperties": meta.Datum(json.dumps(properties or {}), "json")}
    return ServiceBusMessageInConverter.decode(meta.Datum(body, "bytes"),
                                               trigger_metadata=metadata)


def call(queue: str, message) -> None:
    t = trigger(queue)
    t.function(**{t.arg_name: message})


LAUNCH = Envelope(LaunchJob(run_id="run-1"), correlation_id="run-1")


def test_a_transient_failure_becomes_a_copy_scheduled_after_the_backoff(azure_like, namespace):
    azure_like(registry=UnreachableRegistry())
    call("job-launch", delivered(LAUNCH.to_json().encode(), message_id=LAUNCH.id,
                                 properties={"type": "LaunchJob"}))
    [copy] = namespace.sent["job-launch"]
    assert copy.message_id == f"{LAUNCH.id}.retry1"
    assert copy.application_properties["attempt"] == 1
    assert "registry unreachable" in copy.application_properties["last_error"]
    assert copy.scheduled_enqueue_time_utc == NOW + timedelta(seconds=2.0)
    assert b"".join(copy.body) == LAUNCH.to_json().encode()  # the envelope id is unchanged
    assert PARKING_QUEUE not in namespace.sent


def test_backoff_doubles_with_each_attempt_the_copy_carries(azure_like, namespace):
    azure_like(registry=UnreachableRegistry())
    call("job-launch", delivered(LAUNCH.to_json().encode(), message_id=f"{LAUNCH.id}.retry1",
                                 properties={"type": "LaunchJob", "attempt": 1}))
    [copy] = namespace.sent["job-launch"]
    assert copy.application_properties["attempt"] == 2
    assert copy.scheduled_enqueue_time_utc == NOW + timedelta(seconds=4.0)


def test_the_last_attempt_is_parked_with_its_reason_and_listed(azure_like, namespace):
    container = azure_like(registry=UnreachableRegistry())
    call("job-launch", delivered(LAUNCH.to_json().encode(), message_id=f"{LAUNCH.id}.retry2",
                                 properties={"type": "LaunchJob", "attempt": 2}))
    assert "job-launch" not in namespace.sent
    [parked] = namespace.sent[PARKING_QUEUE]
    assert parked.message_id == f"{LAUNCH.id}.dead"
    assert parked.application_properties["origin_queue"] == "job-launch"
    [listed] = container.bus.dead_letters("job-launch")
    assert listed["id"] == LAUNCH.id
    assert listed["reason"].startswith("MaxDeliveryCountExceeded: ConnectionError")
    assert listed["delivery_count"] == 3
    assert json.loads(listed["body"])["id"] == LAUNCH.id
    assert container.bus.dead_letters("job-complete") == []


def test_a_permanent_error_is_parked_at_once_without_retries(azure_like, namespace):
    container = azure_like()
    # A LaunchJob on the job-complete queue is refused by the dispatch table itself.
    call("job-complete", delivered(LAUNCH.to_json().encode(), message_id=LAUNCH.id,
                                   properties={"type": "LaunchJob"}))
    assert "job-complete" not in namespace.sent
    [listed] = container.bus.dead_letters("job-complete")
    assert listed["reason"].startswith("PermanentError: a LaunchJob message does not belong")
    assert listed["delivery_count"] == 1


def test_a_body_that_is_no_envelope_is_parked_as_it_came(azure_like, namespace):
    container = azure_like()
    call("deploy", delivered(b"{not json", message_id="m-1"))
    [listed] = container.bus.dead_letters("deploy")
    assert listed["body"] == "{not json" and listed["id"] == "m-1"


def test_a_redelivery_after_a_lost_lock_counts_towards_the_attempts(azure_like, namespace):
    azure_like(registry=UnreachableRegistry())
    call("job-launch", delivered(LAUNCH.to_json().encode(), message_id=LAUNCH.id,
                                 delivery_count=3, properties={"type": "LaunchJob"}))
    assert "job-launch" not in namespace.sent and PARKING_QUEUE in namespace.sent


def test_when_forwarding_fails_the_function_raises_so_the_host_keeps_the_message(
        azure_like, namespace):
    bus = ServiceBusBus(namespace.client, max_deliveries=3, now=lambda: NOW)
    bus._send = lambda entity, message, topic=False: BrokenSender().send_messages(message)
    azure_like(registry=UnreachableRegistry(), bus=bus)
    with pytest.raises(ConnectionError, match="service bus unreachable"):
        call("job-launch", delivered(LAUNCH.to_json().encode(), message_id=LAUNCH.id))


def test_locally_the_trigger_raises_for_the_queue_workers_to_settle(tmp_path):
    container = Container(
        settings=Settings(tmp_path / "data"), blobs=LocalBlobStore(tmp_path / "blobs"),
        bus=None, registry=UnreachableRegistry(), compute=None, clock=SystemClock(),
        scorer=None)
    install(container)
    try:
        with pytest.raises(ConnectionError):
            call("job-launch", delivered(LAUNCH.to_json().encode(), message_id=LAUNCH.id))
    finally:
        install(None)


def test_a_parked_registration_ends_its_data_version_with_the_reason(azure_like, namespace,
                                                                     tmp_path):
    from shared.domain.messages import RegisterData
    from shared.ports import Record

    container = azure_like()
    container.registry.put(Record("data", "d", "1", {"name": "d", "version": "1",
                                                     "state": "Registering"}), etag="")
    envelope = Envelope(RegisterData(name="d", version="1", source="uploads/none"),
                        correlation_id="d")
    call("data-register", delivered(envelope.to_json().encode(), message_id=envelope.id,
                                    properties={"type": "RegisterData", "attempt": 2}))
    assert namespace.sent[PARKING_QUEUE]
    body = container.registry.get("data", "d", "1").body
    assert body["state"] == "Failed"
    assert "FileNotFoundError" in body["error"]["message"]
