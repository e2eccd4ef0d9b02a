"""ServiceBusBus replays dead letters, at the SDK's message boundary (the fakes of
test_servicebus_bus): from the dead-letter sub-queue and from the parking queue."""
import pytest

from shared.adapters.servicebus_parking import PARKING_QUEUE
from shared.domain.errors import InvalidSpec, NotFound
from shared.domain.messages import Envelope
from tests.unit.test_servicebus_bus import bus, launch, namespace  # noqa: F401 (fixtures)

QUEUE = "job-launch"
DLQ = f"{QUEUE}/$deadletterqueue"


def exhaust(bus, run_id):
    envelope = launch(run_id)
    bus.publish(envelope)
    for _ in range(bus.max_deliveries):
        bus.abandon(bus.receive(QUEUE), "RuntimeError: boom")
    return envelope


def test_a_dead_letter_goes_back_to_its_queue_with_a_fresh_delivery_count(bus, namespace):
    first, poison, last = (exhaust(bus, r) for r in ("run-1", "run-2", "run-3"))
    listed = {Envelope.from_json(d["body"]).id: d["id"] for d in bus.dead_letters(QUEUE)}

    bus.replay_dead_letter(QUEUE, listed[poison.id])

    replayed = namespace.sent[QUEUE][-1]
    assert replayed.message_id.startswith(f"{poison.id}.replay-")  # past duplicate detection
    assert "attempt" not in replayed.application_properties
    received = bus.receive(QUEUE)
    assert (received.envelope, received.delivery_count) == (poison, 1)
    left = [Envelope.from_json(d["body"]) for d in bus.dead_letters(QUEUE)]
    assert left == [first, last]  # the others were given back, unlocked
    assert all(e["lock"] is None for e in namespace.entries[DLQ])


def test_a_dead_letter_can_be_replayed_by_its_envelope_id(bus, namespace):
    poison = exhaust(bus, "run-1")
    bus.replay_dead_letter(QUEUE, poison.id)
    assert bus.receive(QUEUE).envelope == poison
    assert bus.dead_letters(QUEUE) == []


def test_a_parked_message_is_replayed_from_the_parking_queue(bus, namespace):
    envelope = launch("run-9")
    refused = bus.policy.settle(InvalidSpec("no such compute"), attempt=1)
    bus.forward_failure(QUEUE, envelope.to_json().encode(), refused, message_id=envelope.id,
                        correlation_id="run-9", message_type="LaunchJob", attempt=1)
    [parked] = bus.dead_letters(QUEUE)

    bus.replay_dead_letter(QUEUE, parked["id"])

    assert bus.receive(QUEUE).envelope == envelope
    assert namespace.entries[PARKING_QUEUE] == []


def test_replaying_an_unknown_id_is_not_found_and_moves_nothing(bus, namespace):
    exhaust(bus, "run-1")
    before = [(d["id"], d["body"], d["reason"]) for d in bus.dead_letters(QUEUE)]
    with pytest.raises(NotFound, match="nope"):
        bus.replay_dead_letter(QUEUE, "nope")
    # (Receiving a dead letter to look at it counts as a delivery on Service Bus.)
    assert [(d["id"], d["body"], d["reason"]) for d in bus.dead_letters(QUEUE)] == before
    assert all(e["lock"] is None for e in namespace.entries[DLQ])
