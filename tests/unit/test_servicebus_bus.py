"""ServiceBusBus at the SDK's message boundary.

No Service Bus emulator runs here, so the one fake in these tests is the SDK's transport:
FakeNamespace stands in for ServiceBusClient and its senders and receivers, and keeps the
real ServiceBusMessage objects the adapter sends. What the adapter receives are real
ServiceBusReceivedMessage objects, decoded from the AMQP bytes the SDK itself encodes
(bytes-keyed properties, sectioned bodies and all), with the broker's annotations added.
"""
from __future__ import annotations

import copy
import logging
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from azure.servicebus import (ServiceBusMessage, ServiceBusReceivedMessage,
                              ServiceBusReceiveMode, ServiceBusSubQueue)
from azure.servicebus._pyamqp._encode import encode_payload
from azure.servicebus._transport._pyamqp_transport import PyamqpTransport
from azure.servicebus.exceptions import MessageLockLostError

from shared.adapters.servicebus_bus import ServiceBusBus
from shared.domain.errors import Conflict
from shared.domain.messages import DataRegistered, Envelope, LaunchJob

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def over_the_wire(sent: ServiceBusMessage, *, sequence_number: int, earlier_deliveries: int,
                  lock_token: uuid.UUID | None = None,
                  properties: dict | None = None) -> ServiceBusReceivedMessage:
    """What a receiver gets for a sent message: the SDK's own encoding, decoded again."""
    raw = copy.deepcopy(sent.raw_amqp_message)
    raw.header.delivery_count = earlier_deliveries
    raw.annotations = {**(raw.annotations or {}), b"x-opt-sequence-number": sequence_number}
    if lock_token is not None:
        raw.delivery_annotations = {b"x-opt-lock-token": lock_token}
    raw.application_properties = {**(raw.application_properties or {}), **(properties or {})}
    encoded = bytearray()
    encode_payload(encoded, PyamqpTransport.to_outgoing_amqp_message(raw))
    return ServiceBusReceivedMessage.from_bytes(bytes(encoded))


class FakeNamespace:
    """Entities of a namespace in memory: what was sent, what is locked, dead letters."""

    def __init__(self) -> None:
        self.sent: dict[str, list[ServiceBusMessage]] = {}
        self.entries: dict[str, list[dict]] = {}
        self.receivers: list[FakeReceiver] = []
        self.clients = 0
        self.sequence = 0

    def client(self) -> "FakeNamespace.Client":
        self.clients += 1
        return FakeNamespace.Client(self)

    def enqueue(self, entity: str, message: ServiceBusMessage, properties: dict | None = None):
        self.sequence += 1
        self.entries.setdefault(entity, []).append(
            {"message": message, "sequence": self.sequence, "deliveries": 0, "lock": None,
             "properties": properties or {}})

    class Client:
        def __init__(self, namespace: "FakeNamespace") -> None:
            self.namespace = namespace

        def get_queue_sender(self, queue_name):
            return FakeSender(self.namespace, queue_name)

        def get_topic_sender(self, topic_name):
            return FakeSender(self.namespace, topic_name)

        def get_queue_receiver(self, queue_name, receive_mode=ServiceBusReceiveMode.PEEK_LOCK,
                               sub_queue=None):
            entity = queue_name + ("/$deadletterqueue" if sub_queue else "")
            return FakeReceiver(self.namespace, entity, receive_mode, sub_queue)

        def get_subscription_receiver(self, topic_name, subscription_name):
            # Every subscription sees every message sent to the topic.
            return FakeReceiver(self.namespace, topic_name, ServiceBusReceiveMode.PEEK_LOCK, None)

        def close(self):
            pass


class FakeSender:
    def __init__(self, namespace: FakeNamespace, entity: str) -> None:
        self.namespace, self.entity = namespace, entity

    def send_messages(self, message: ServiceBusMessage) -> None:
        self.namespace.sent.setdefault(self.entity, []).append(message)
        self.namespace.enqueue(self.entity, message)

    def close(self):
        pass


class FakeReceiver:
    def __init__(self, namespace, entity, receive_mode, sub_queue) -> None:
        self.namespace, self.entity = namespace, entity
        self.receive_mode, self.sub_queue = receive_mode, sub_queue
        self.lose_locks = False
        namespace.receivers.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def receive_messages(self, max_message_count=1, max_wait_time=None):
        assert max_wait_time and max_wait_time > 0  # None or 0 would wait a whole minute
        for entry in self.namespace.entries.get(self.entity, []):
            if entry["lock"] is None:
                entry["lock"] = uuid.uuid4()
                entry["deliveries"] += 1
                return [over_the_wire(entry["message"], sequence_number=entry["sequence"],
                                      earlier_deliveries=entry["deliveries"] - 1,
                                      lock_token=entry["lock"], properties=entry["properties"])]
        return []

    def peek_messages(self, max_message_count=1, sequence_number=0):
        entries = [e for e in self.namespace.entries.get(self.entity, [])
                   if e["sequence"] >= sequence_number][:max_message_count]
        return [over_the_wire(e["message"], sequence_number=e["sequence"],
                              earlier_deliveries=e["deliveries"], properties=e["properties"])
                for e in entries]

    def complete_message(self, message):
        self._take(message)

    def abandon_message(self, message):
        self._take_lock(message)["lock"] = None

    def _take_lock(self, message) -> dict:
        entry = next((e for e in self.namespace.entries.get(self.entity, [])
                      if e["lock"] == message.lock_token), None)
        if entry is None or self.lose_locks:
            raise MessageLockLostError(message="the lock expired")
        return entry

    def dead_letter_message(self, message, reason=None, error_description=None):
        entry = self._take(message)
        self.namespace.enqueue(f"{self.entity}/$deadletterqueue", entry["message"], {
            **entry["properties"], "DeadLetterReason": reason,
            "DeadLetterErrorDescription": error_description})

    def _take(self, message) -> dict:
        entries = self.namespace.entries[self.entity]
        entry = next((e for e in entries if e["lock"] == message.lock_token), None)
        if entry is None or self.lose_locks:
            raise MessageLockLostError(message="the lock expired")
        entries.remove(entry)
        return entry

    def close(self):
        pass


@pytest.fixture
def namespace() -> FakeNamespace:
    return FakeNamespace()


@pytest.fixture
def bus(namespace: FakeNamespace) -> ServiceBusBus:
    return ServiceBusBus(namespace.client, max_deliveries=3, backoff_s=2.0, max_backoff_s=5.0,
                         now=lambda: NOW)


def launch(run_id: str = "run-1") -> Envelope:
    return Envelope(LaunchJob(run_id=run_id), correlation_id=run_id)


class TestPublishing:
    def test_a_command_is_sent_to_its_queue_with_id_correlation_and_type(self, bus, namespace):
        envelope = launch()
        bus.publish(envelope)
        [sent] = namespace.sent["job-launch"]
        assert sent.message_id == envelope.id
        assert sent.correlation_id == "run-1"
        assert sent.application_properties == {"type": "LaunchJob"}
        assert sent.content_type == "application/json"
        assert b"".join(sent.body) == envelope.to_json().encode()
        assert sent.scheduled_enqueue_time_utc is None

    def test_a_follow_up_carries_its_cause(self, bus, namespace):
        cause = launch()
        bus.publish(cause.follow(LaunchJob(run_id="run-1"), key="again"))
        assert namespace.sent["job-launch"][0].application_properties["causation_id"] == cause.id

    def test_a_redelivered_handler_sends_the_same_message_id_for_duplicate_detection(
            self, bus, namespace):
        cause = launch()
        bus.publish(cause.follow(LaunchJob(run_id="run-2")))
        bus.publish(cause.follow(LaunchJob(run_id="run-2")))
        first, second = namespace.sent["job-launch"]
        assert first.message_id == second.message_id

    def test_a_delayed_message_is_scheduled(self, bus, namespace):
        bus.publish(launch(), delay_s=30)
        [sent] = namespace.sent["job-launch"]
        assert sent.scheduled_enqueue_time_utc == NOW + timedelta(seconds=30)

    def test_an_event_without_queue_goes_to_the_events_topic(self, bus, namespace):
        event = Envelope(DataRegistered(name="d", version="1", fingerprint="f"),
                         correlation_id="d")
        bus.publish(event)
        [sent] = namespace.sent["events"]
        assert (sent.message_id, sent.application_properties["type"]) == (event.id,
                                                                         "DataRegistered")

    def test_without_an_events_topic_an_event_is_only_logged(self, namespace, caplog):
        bus = ServiceBusBus(namespace.client, events_topic=None)
        with caplog.at_level(logging.INFO, logger="shared.adapters.servicebus_bus"):
            bus.publish(Envelope(DataRegistered(name="d", version="1", fingerprint="f")))
        assert namespace.sent == {}
        assert "DataRegistered" in caplog.text

    def test_nothing_connects_until_the_first_message(self, namespace):
        ServiceBusBus.from_namespace("mlcycle.servicebus.windows.net", credential=object())
        bus = ServiceBusBus(namespace.client)
        assert namespace.clients == 0
        bus.publish(launch())
        assert namespace.clients == 1

    def test_each_thread_sends_through_its_own_client(self, bus, namespace):
        threads = [threading.Thread(target=bus.publish, args=(launch(f"run-{i}"),))
                   for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert namespace.clients == 3
        assert len(namespace.sent["job-launch"]) == 3


class TestReceiving:
    def test_a_message_is_received_under_peek_lock_and_completed(self, bus, namespace):
        envelope = launch()
        bus.publish(envelope)
        received = bus.receive("job-launch")
        assert received.envelope == envelope
        assert received.delivery_count == 1
        assert namespace.receivers[0].receive_mode == ServiceBusReceiveMode.PEEK_LOCK
        bus.complete(received)
        assert namespace.entries["job-launch"] == []

    def test_an_empty_queue_receives_none(self, bus):
        assert bus.receive("job-launch") is None

    def test_abandon_schedules_a_retry_with_backoff_and_completes_the_original(
            self, bus, namespace):
        envelope = launch()
        bus.publish(envelope)
        bus.abandon(bus.receive("job-launch"), "TransientError: pool not ready")
        original, retry = namespace.sent["job-launch"]
        assert retry.message_id == f"{envelope.id}.retry1"
        assert retry.scheduled_enqueue_time_utc == NOW + timedelta(seconds=2)
        assert retry.application_properties["attempt"] == 1
        assert retry.application_properties["last_error"] == "TransientError: pool not ready"
        assert [e["message"] for e in namespace.entries["job-launch"]] == [retry]

    def test_a_retry_counts_the_deliveries_before_it_and_keeps_the_envelope_id(
            self, bus, namespace):
        envelope = launch()
        bus.publish(envelope)
        bus.abandon(bus.receive("job-launch"), "first")
        retried = bus.receive("job-launch")
        assert (retried.envelope.id, retried.delivery_count) == (envelope.id, 2)
        bus.abandon(retried, "second")
        assert namespace.sent["job-launch"][-1].scheduled_enqueue_time_utc == \
            NOW + timedelta(seconds=4)

    def test_after_max_deliveries_a_message_is_dead_lettered_with_the_reason(self, bus):
        bus.publish(launch())
        for _ in range(3):
            bus.abandon(bus.receive("job-launch"), "RuntimeError: boom")
        assert bus.receive("job-launch") is None
        [dead] = bus.dead_letters("job-launch")
        assert dead["reason"] == "MaxDeliveryCountExceeded: RuntimeError: boom"
        assert dead["type"] == "LaunchJob"

    def test_a_dead_letter_carries_reason_and_description(self, bus, namespace):
        envelope = launch()
        bus.publish(envelope)
        bus.dead_letter(bus.receive("job-launch"), "InvalidSpec: no such compute")
        [entry] = namespace.entries["job-launch/$deadletterqueue"]
        assert entry["properties"]["DeadLetterReason"] == "InvalidSpec"
        assert entry["properties"]["DeadLetterErrorDescription"] == "InvalidSpec: no such compute"
        [dead] = bus.dead_letters("job-launch")
        assert dead["id"] == envelope.id and dead["correlation_id"] == "run-1"
        assert Envelope.from_json(dead["body"]) == envelope
        assert any(r.sub_queue == ServiceBusSubQueue.DEAD_LETTER for r in namespace.receivers)

    def test_a_body_that_is_no_envelope_is_dead_lettered_on_the_way(self, bus, namespace):
        namespace.enqueue("job-launch", ServiceBusMessage("not json", message_id="junk"))
        bus.publish(launch())
        assert bus.receive("job-launch").envelope.message.run_id == "run-1"
        [dead] = bus.dead_letters("job-launch")
        assert dead["id"] == "junk" and dead["reason"]

    def test_settling_after_the_lock_was_lost_is_a_conflict(self, bus, namespace):
        bus.publish(launch())
        received = bus.receive("job-launch")
        namespace.receivers[0].lose_locks = True
        with pytest.raises(Conflict):
            bus.complete(received)
        with pytest.raises(Conflict):
            bus.complete(received)


class TestJournal:
    def test_events_reads_back_what_the_journal_subscription_holds(self, bus):
        mine = Envelope(DataRegistered(name="d", version="1", fingerprint="f"),
                        correlation_id="d")
        bus.publish(mine)
        bus.publish(Envelope(DataRegistered(name="e", version="1", fingerprint="g"),
                             correlation_id="e"))
        assert bus.events("d") == [mine]
        assert len(bus.events()) == 2
