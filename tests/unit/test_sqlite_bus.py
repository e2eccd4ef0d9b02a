"""SqliteBus, the embedded twin of Service Bus: delivery, locks, retries, dead letters."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Iterator

import pytest

from shared.adapters.sqlite_bus import SqliteBus
from shared.domain.errors import Conflict, NotFound
from shared.domain.messages import REGISTRY, Envelope, JobCompleted, LaunchJob, Message, ScalePool

REPO_ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    """Seconds since the epoch that only move when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass(frozen=True)
class MysteryCommand(Message):
    """A message type that a worker may not know (a newer producer sent it)."""

    queue: ClassVar[str] = "job-launch"
    what: str


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bus(tmp_path: Path, clock: FakeClock) -> Iterator[SqliteBus]:
    bus = SqliteBus(tmp_path / "state" / "bus.db", max_deliveries=3, lock_timeout_s=30.0,
                    backoff_s=2.0, max_backoff_s=5.0, now=clock)
    yield bus
    bus.close()


def launch(run_id: str) -> Envelope:
    return Envelope(LaunchJob(run_id=run_id), correlation_id=run_id)


def drain(bus: SqliteBus, queue: str) -> list[str]:
    run_ids = []
    while (received := bus.receive(queue)) is not None:
        run_ids.append(received.envelope.message.run_id)
        bus.complete(received)
    return run_ids


class TestStorage:
    def test_the_folder_and_schema_are_created_on_first_use(self, tmp_path: Path) -> None:
        path = tmp_path / "not" / "yet" / "bus.db"
        bus = SqliteBus(path)
        bus.publish(launch("run-1"))
        bus.close()
        assert path.is_file()

    def test_messages_survive_reopening_the_file(self, bus: SqliteBus, clock: FakeClock) -> None:
        bus.publish(launch("run-1"))
        bus.close()
        reopened = SqliteBus(bus.path, now=clock)
        assert reopened.receive("job-launch").envelope.message == LaunchJob("run-1")
        reopened.close()


class TestPublishAndReceive:
    def test_a_received_message_carries_the_published_envelope_intact(
            self, bus: SqliteBus) -> None:
        sent = Envelope(LaunchJob(run_id="run-1"), correlation_id="run-1", causation_id="c-0")
        bus.publish(sent)
        received = bus.receive("job-launch")
        assert received.envelope == sent
        assert (received.queue, received.delivery_count) == ("job-launch", 1)
        bus.complete(received)
        assert bus.receive("job-launch") is None

    def test_messages_are_received_in_the_order_they_were_published(
            self, bus: SqliteBus) -> None:
        for i in range(10):
            bus.publish(launch(f"run-{i}"))
        assert drain(bus, "job-launch") == [f"run-{i}" for i in range(10)]

    def test_each_message_goes_only_to_its_own_queue(self, bus: SqliteBus) -> None:
        bus.publish(Envelope(ScalePool(compute="cpu")))
        assert bus.receive("job-launch") is None
        assert bus.receive("compute-scale").envelope.message == ScalePool(compute="cpu")

    def test_an_event_without_a_queue_is_only_journaled(self, bus: SqliteBus) -> None:
        event = Envelope(JobCompleted(run_id="run-1"), correlation_id="run-1")
        bus.publish(event)
        assert bus.events("run-1") == [event]
        assert bus.pending() == 0

    def test_the_journal_tells_a_correlations_history_in_publish_order(
            self, bus: SqliteBus) -> None:
        first = launch("run-1")
        other = launch("run-2")
        second = first.follow(JobCompleted(run_id="run-1"))
        for envelope in (first, other, second):
            bus.publish(envelope)
        assert bus.events("run-1") == [first, second]
        assert bus.events() == [first, other, second]

    def test_an_id_published_twice_is_delivered_and_journaled_once(
            self, bus: SqliteBus) -> None:
        envelope = launch("run-1")
        bus.publish(envelope)
        bus.publish(envelope)
        assert drain(bus, "job-launch") == ["run-1"]
        assert bus.events() == [envelope]

    def test_an_id_republished_after_completion_is_still_ignored(self, bus: SqliteBus) -> None:
        envelope = launch("run-1")
        bus.publish(envelope)
        bus.complete(bus.receive("job-launch"))
        bus.publish(envelope)
        assert bus.receive("job-launch") is None

    def test_a_scheduled_message_stays_invisible_until_its_time(
            self, bus: SqliteBus, clock: FakeClock) -> None:
        bus.publish(launch("later"), delay_s=10)
        bus.publish(launch("now"))
        assert drain(bus, "job-launch") == ["now"]
        clock.advance(9.9)
        assert bus.receive("job-launch") is None
        clock.advance(0.1)
        assert bus.receive("job-launch").envelope.message.run_id == "later"

    def test_an_empty_queue_gives_none_after_the_wait(self, bus: SqliteBus) -> None:
        assert bus.receive("job-launch", max_wait_s=0.05) is None

    def test_a_waiting_receive_gets_a_message_published_meanwhile(
            self, bus: SqliteBus) -> None:
        publisher = threading.Timer(0.05, bus.publish, args=(launch("run-1"),))
        publisher.start()
        received = bus.receive("job-launch", max_wait_s=10)
        publisher.join()
        assert received.envelope.message == LaunchJob("run-1")


class TestPeekLock:
    def test_a_locked_message_is_not_given_to_a_second_receiver(self, bus: SqliteBus) -> None:
        bus.publish(launch("run-1"))
        assert bus.receive("job-launch") is not None
        assert bus.receive("job-launch") is None

    def test_an_expired_lock_redelivers_with_a_higher_delivery_count(
            self, bus: SqliteBus, clock: FakeClock) -> None:
        bus.publish(launch("run-1"))
        first = bus.receive("job-launch")
        clock.advance(30)
        second = bus.receive("job-launch")
        assert second.envelope == first.envelope
        assert (first.delivery_count, second.delivery_count) == (1, 2)
        assert second.lock_token != first.lock_token

    def test_completing_after_the_lock_was_lost_raises_conflict(
            self, bus: SqliteBus, clock: FakeClock) -> None:
        bus.publish(launch("run-1"))
        stale = bus.receive("job-launch")
        clock.advance(31)
        fresh = bus.receive("job-launch")
        with pytest.raises(Conflict, match="message lock lost"):
            bus.complete(stale)
        bus.complete(fresh)
        assert bus.pending() == 0

    def test_completing_twice_raises_conflict(self, bus: SqliteBus) -> None:
        bus.publish(launch("run-1"))
        received = bus.receive("job-launch")
        bus.complete(received)
        with pytest.raises(Conflict):
            bus.complete(received)

    def test_an_expired_lock_nobody_retook_can_still_be_completed(
            self, bus: SqliteBus, clock: FakeClock) -> None:
        bus.publish(launch("run-1"))
        received = bus.receive("job-launch")
        clock.advance(60)
        bus.complete(received)
        assert bus.receive("job-launch") is None

    def test_a_renewed_lock_keeps_the_message_from_redelivery(
            self, bus: SqliteBus, clock: FakeClock) -> None:
        bus.publish(launch("run-1"))
        received = bus.receive("job-launch")
        clock.advance(20)
        bus.renew_lock(received)
        clock.advance(20)
        assert bus.receive("job-launch") is None
        bus.complete(received)

    def test_renewing_a_lost_lock_raises_conflict(
            self, bus: SqliteBus, clock: FakeClock) -> None:
        bus.publish(launch("run-1"))
        stale = bus.receive("job-launch")
        clock.advance(30)
        bus.receive("job-launch")
        with pytest.raises(Conflict):
            bus.renew_lock(stale)


class TestRetries:
    def test_an_abandoned_message_comes_back_after_a_growing_backoff(
            self, tmp_path: Path, clock: FakeClock) -> None:
        bus = SqliteBus(tmp_path / "bus.db", max_deliveries=10, backoff_s=2.0,
                        max_backoff_s=5.0, now=clock)
        bus.publish(launch("run-1"))
        received = bus.receive("job-launch")
        waits = []
        for _ in range(4):
            bus.abandon(received, "not ready")
            waited = 0.0
            while (received := bus.receive("job-launch")) is None:
                clock.advance(0.5)
                waited += 0.5
            waits.append(waited)
        assert waits == [2.0, 4.0, 5.0, 5.0]  # 2 * 2**(n-1), capped at 5
        bus.close()

    def test_an_abandon_at_the_maximum_delivery_count_dead_letters_with_the_reason(
            self, bus: SqliteBus, clock: FakeClock) -> None:
        bus.publish(launch("run-1"))
        for attempt in range(1, 4):
            received = bus.receive("job-launch")
            assert received.delivery_count == attempt
            bus.abandon(received, "boom")
            clock.advance(10)
        assert bus.receive("job-launch") is None
        [letter] = bus.dead_letters("job-launch")
        assert letter["reason"] == "MaxDeliveryCountExceeded: boom"
        assert letter["delivery_count"] == 3

    def test_a_lock_expiring_once_too_often_dead_letters_and_the_next_message_is_served(
            self, bus: SqliteBus, clock: FakeClock) -> None:
        bus.publish(launch("run-1"))
        bus.publish(launch("run-2"))
        for _ in range(3):
            assert bus.receive("job-launch").envelope.message.run_id == "run-1"
            clock.advance(30)
        assert bus.receive("job-launch").envelope.message.run_id == "run-2"
        [letter] = bus.dead_letters("job-launch")
        assert (letter["id"], letter["reason"]) == (
            bus.events()[0].id, "MaxDeliveryCountExceeded: lock expired")

    def test_abandoning_a_lost_lock_raises_conflict(
            self, bus: SqliteBus, clock: FakeClock) -> None:
        bus.publish(launch("run-1"))
        stale = bus.receive("job-launch")
        clock.advance(30)
        bus.receive("job-launch")
        with pytest.raises(Conflict):
            bus.abandon(stale, "too late")


class TestDeadLetters:
    def test_a_dead_lettered_message_keeps_its_envelope_reason_and_count(
            self, bus: SqliteBus) -> None:
        envelope = launch("run-1")
        bus.publish(envelope)
        bus.dead_letter(bus.receive("job-launch"), "InvalidSpec: no command")
        [letter] = bus.dead_letters("job-launch")
        assert letter["id"] == envelope.id
        assert letter["type"] == "LaunchJob"
        assert letter["correlation_id"] == "run-1"
        assert Envelope.from_json(letter["body"]) == envelope
        assert letter["reason"] == "InvalidSpec: no command"
        assert letter["delivery_count"] == 1
        assert datetime.fromisoformat(letter["dead_lettered_at"]).tzinfo is not None
        assert bus.pending() == 0

    def test_dead_letters_are_kept_per_queue(self, bus: SqliteBus) -> None:
        bus.publish(launch("run-1"))
        bus.dead_letter(bus.receive("job-launch"), "bad")
        assert bus.dead_letters("compute-scale") == []

    def test_a_replayed_dead_letter_is_delivered_again_with_a_fresh_count(
            self, bus: SqliteBus) -> None:
        envelope = launch("run-1")
        bus.publish(envelope)
        bus.dead_letter(bus.receive("job-launch"), "bad")
        bus.replay_dead_letter("job-launch", envelope.id)
        assert bus.dead_letters("job-launch") == []
        received = bus.receive("job-launch")
        assert (received.envelope, received.delivery_count) == (envelope, 1)

    def test_replaying_an_unknown_dead_letter_raises_not_found(self, bus: SqliteBus) -> None:
        with pytest.raises(NotFound):
            bus.replay_dead_letter("job-launch", "no-such-id")

    def test_a_body_that_is_no_valid_envelope_is_dead_lettered_without_blocking_the_queue(
            self, bus: SqliteBus, monkeypatch: pytest.MonkeyPatch) -> None:
        unknown = Envelope(MysteryCommand(what="?"))
        bus.publish(unknown)
        bus.publish(launch("run-1"))
        monkeypatch.delitem(REGISTRY, "MysteryCommand")
        assert bus.receive("job-launch").envelope.message == LaunchJob("run-1")
        [letter] = bus.dead_letters("job-launch")
        assert letter["id"] == unknown.id
        # The reason the Functions trigger parks such a body with: one policy for both.
        assert letter["reason"].startswith("PermanentError: malformed message envelope")
        assert json.loads(letter["body"])["payload"] == {"what": "?"}


class TestPending:
    def test_pending_counts_visible_scheduled_and_locked_messages(
            self, bus: SqliteBus) -> None:
        bus.publish(launch("visible"))
        bus.publish(launch("scheduled"), delay_s=60)
        bus.publish(launch("locked"))
        bus.publish(Envelope(ScalePool(compute="cpu")))
        bus.publish(Envelope(JobCompleted(run_id="x")))
        first = bus.receive("job-launch")
        assert (bus.pending("job-launch"), bus.pending("compute-scale"), bus.pending()) == \
            (3, 1, 4)
        bus.complete(first)
        bus.dead_letter(bus.receive("job-launch"), "bad")
        assert (bus.pending("job-launch"), bus.pending()) == (1, 2)


class TestConcurrency:
    def test_threads_receiving_at_once_each_get_every_message_exactly_once(
            self, tmp_path: Path) -> None:
        bus = SqliteBus(tmp_path / "bus.db")
        sent = [launch(f"run-{i}") for i in range(200)]
        for envelope in sent:
            bus.publish(envelope)
        got: list[list[str]] = [[] for _ in range(4)]
        errors: list[BaseException] = []

        def worker(mine: list[str]) -> None:
            try:
                while (received := bus.receive("job-launch")) is not None:
                    mine.append(received.envelope.id)
                    bus.complete(received)
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(mine,)) for mine in got]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        delivered = [id_ for mine in got for id_ in mine]
        assert sorted(delivered) == sorted(e.id for e in sent)
        assert bus.pending() == 0
        bus.close()

    def test_other_processes_can_publish_into_the_same_file_while_we_receive(
            self, tmp_path: Path) -> None:
        path = tmp_path / "bus.db"
        bus = SqliteBus(path)
        script = (
            "import sys\n"
            "from pathlib import Path\n"
            "from shared.adapters.sqlite_bus import SqliteBus\n"
            "from shared.domain.messages import Envelope, LaunchJob\n"
            "bus = SqliteBus(Path(sys.argv[1]))\n"
            "for i in range(50):\n"
            "    bus.publish(Envelope(LaunchJob(run_id=f'{sys.argv[2]}-{i}')))\n")
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        publishers = [subprocess.Popen([sys.executable, "-c", script, str(path), name],
                                       cwd=REPO_ROOT, env=env) for name in ("a", "b")]
        got = []
        while len(got) < 100 and (received := bus.receive("job-launch", max_wait_s=20)):
            got.append(received.envelope.message.run_id)
            bus.complete(received)
        assert [p.wait(timeout=20) for p in publishers] == [0, 0]
        assert sorted(got) == sorted(f"{name}-{i}" for name in "ab" for i in range(50))
        for name in "ab":  # each publisher's messages arrive in its own order
            mine = [r for r in got if r.startswith(name)]
            assert mine == [f"{name}-{i}" for i in range(50)]
        bus.close()

