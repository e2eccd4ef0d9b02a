"""Area 4, event throughput: no-op messages through SqliteBus and the local host's queue
workers with every delivery guarantee on (journal, duplicate detection, peek-lock,
settlement), and the cost of one handler hop (a handler whose message causes the next).

In process on a fresh bus file each round: the figures are the bus and the workers',
not HTTP's."""
from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from bench.stats import summary
from shared.adapters.sqlite_bus import SqliteBus
from shared.domain.messages import DeployModel, Envelope
from shared.localhost.triggers import Trigger
from shared.localhost.workers import QueueWorkers

QUEUE = DeployModel.queue


def run(plan) -> dict:
    rounds = [_round(plan) for _ in range(plan.rounds)]
    return {"messages": plan.event_messages, "hops": plan.event_hops,
            "publish_per_s": summary(r["publish_per_s"] for r in rounds),
            "deliver_per_s": summary(r["deliver_per_s"] for r in rounds),
            "hop_ms": summary(r["hop_ms"] for r in rounds),
            "threads_per_queue": 1}


def _round(plan) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-bus-") as folder:
        bus = SqliteBus(Path(folder) / "bus.sqlite")
        try:
            publish_s = _publish(bus, plan.event_messages)
            deliver_s = _drain(bus, lambda msg: None)
            hop_s = _chain(bus, plan.event_hops) / plan.event_hops
        finally:
            bus.close()
    return {"publish_per_s": plan.event_messages / publish_s,
            "deliver_per_s": plan.event_messages / deliver_s, "hop_ms": hop_s * 1e3}


def _publish(bus: SqliteBus, count: int) -> float:
    envelopes = [Envelope(DeployModel("bench", f"d{i}")) for i in range(count)]
    start = time.perf_counter()
    for envelope in envelopes:
        bus.publish(envelope)
    return time.perf_counter() - start


def _drain(bus: SqliteBus, handler) -> float:
    """Seconds for the workers to receive, handle and complete every queued message."""
    workers = QueueWorkers(bus, [Trigger("serviceBusTrigger", "noop", handler, "msg",
                                         queue=QUEUE)])
    start = time.perf_counter()
    workers.start()
    try:
        workers.join(timeout=600)
        return time.perf_counter() - start
    finally:
        workers.stop()


def _chain(bus: SqliteBus, hops: int) -> float:
    """Seconds for a message to cause `hops` messages one after the other, each handled
    by the worker before the next is published: the latency of one hop."""
    done = threading.Event()
    seen = [0]

    def hop(msg) -> None:
        seen[0] += 1
        if seen[0] >= hops:
            done.set()
            return
        envelope = Envelope.from_json(msg.get_body())
        bus.publish(envelope.follow(DeployModel("bench", f"hop{seen[0]}")))

    workers = QueueWorkers(bus, [Trigger("serviceBusTrigger", "hop", hop, "msg",
                                         queue=QUEUE)])
    workers.start()
    try:
        start = time.perf_counter()
        bus.publish(Envelope(DeployModel("bench", "hop0")))
        if not done.wait(timeout=600):
            raise TimeoutError("the hop chain did not finish")
        return time.perf_counter() - start
    finally:
        workers.stop()
