"""The local host's queue workers settle messages as the Functions host would:
complete on success, dead-letter permanent errors at once, retry the rest."""
import pytest

from shared.adapters.sqlite_bus import SqliteBus
from shared.domain.errors import InvalidSpec, TransientError
from shared.domain.messages import DeployModel, Envelope
from shared.localhost.triggers import Trigger
from shared.localhost.workers import QueueWorkers


@pytest.fixture
def bus(tmp_path):
    return SqliteBus(tmp_path / "bus.sqlite", max_deliveries=3, backoff_s=0.01)


def run_workers(bus, function):
    workers = QueueWorkers(bus, [Trigger("serviceBusTrigger", "deploy", function, "msg",
                                         queue="deploy")])
    workers.start()
    try:
        workers.join(timeout=30)
    finally:
        workers.stop()
    return workers


def test_a_handled_message_is_completed_with_its_body_intact(bus):
    seen = []
    envelope = Envelope(DeployModel("e", "blue"))
    bus.publish(envelope)
    run_workers(bus, lambda msg: seen.append(Envelope.from_json(msg.get_body())))
    assert seen == [envelope]
    assert bus.pending() == 0 and bus.dead_letters("deploy") == []


def test_a_permanent_error_is_dead_lettered_without_retries(bus):
    calls = []

    def refuse(msg):
        calls.append(1)
        raise InvalidSpec("model 'm' does not exist")

    bus.publish(Envelope(DeployModel("e", "blue")))
    run_workers(bus, refuse)
    assert len(calls) == 1
    [dead] = bus.dead_letters("deploy")
    assert dead["delivery_count"] == 1
    assert "model 'm' does not exist" in dead["reason"]


def test_a_transient_error_is_retried_until_it_succeeds(bus):
    calls = []

    def flaky(msg):
        calls.append(1)
        if len(calls) < 3:
            raise TransientError("not converted yet")

    bus.publish(Envelope(DeployModel("e", "blue")))
    run_workers(bus, flaky)
    assert len(calls) == 3
    assert bus.dead_letters("deploy") == []


def test_a_message_failing_every_time_is_dead_lettered_after_max_deliveries(bus):
    calls = []

    def broken(msg):
        calls.append(1)
        raise RuntimeError("always")

    bus.publish(Envelope(DeployModel("e", "blue")))
    bus.publish(Envelope(DeployModel("e", "green")))
    run_workers(bus, broken)
    assert len(calls) == 6
    reasons = [d["reason"] for d in bus.dead_letters("deploy")]
    assert reasons == ["MaxDeliveryCountExceeded: RuntimeError: always"] * 2
