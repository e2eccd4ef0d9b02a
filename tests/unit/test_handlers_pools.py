"""compute-scale and the pool timer: runs are admitted to their pool in submission order,
the pool's nodes follow them, and idle nodes go after the idle time. Time is a fake
clock; launches are read off the job-launch queue, and a run's end is simulated the
way job-complete reports it (the run ends, then ScalePool)."""
from pathlib import Path

import pytest

from shared.domain.messages import Envelope, ScalePool
from shared.domain.runs import transition
from shared.domain.status import RunStatus
from shared.handlers.compute_scale import scale_pool, tick_pools
from shared.handlers.intake_assets import submit_compute
from shared.handlers.intake_jobs import submit_job
from shared.handlers.registry import handle
from shared.specs.types import ComputeSpec, JobSpec
from tests.fakes.batch_world import FakeClock

@pytest.fixture
def clock(container) -> FakeClock:
    container.clock = FakeClock()
    return container.clock


def create_pool(container, name="gpu", least=0, most=2, idle_s=120, tier="dedicated",
                key=None) -> dict:
    p = container.ports()
    spec = ComputeSpec(Path("compute.yml"), name, "amlcompute", "Standard_NC6", least, most,
                       idle_s, tier)
    return submit_compute(spec, key=key or name, registry=p["registry"], bus=p["bus"],
                          clock=p["clock"])


def submit(container, compute="gpu", nodes=1) -> str:
    container.clock.advance(1)  # submission order is the order of creation times
    spec = JobSpec(source=Path("job.yml"), command="true", code=None, environment="x",
                   environment_image=None, environment_conda=None, compute=compute,
                   instance_count=nodes, distribution=None, timeout_s=None, inputs={},
                   outputs={}, name=None, display_name=None, experiment_name="exp",
                   description="", tags={})
    p = container.ports()
    return submit_job(spec, key=f"job-{len(container.registry.list('run'))}",
                      blobs=p["blobs"], registry=p["registry"], bus=p["bus"],
                      clock=p["clock"])["name"]


def scale(container) -> list[str]:
    """Handle what is on compute-scale now; the run ids it sent to job-launch."""
    while (received := container.bus.receive("compute-scale")) is not None:
        handle("compute-scale", received.envelope.to_json(), container.ports())
        container.bus.complete(received)
    return launches(container)


def launches(container) -> list[str]:
    sent = []
    while (received := container.bus.receive("job-launch")) is not None:
        container.bus.complete(received)
        sent.append(received.envelope.message.run_id)
    return sent


def end(container, run_id, compute="gpu") -> None:
    transition(container.registry, run_id, RunStatus.COMPLETED, container.clock)
    container.bus.publish(Envelope(ScalePool(compute), id=f"{run_id}-release"))


def pool(container, name="gpu") -> dict:
    return container.registry.get("compute", name).body


def status(container, run_id) -> str:
    return container.registry.get("run", run_id).body["status"]


class TestCreatingAPool:
    def test_a_new_pool_starts_at_min_instances_and_records_why(self, container, clock):
        body = create_pool(container, least=1, most=3, tier="low_priority")
        assert (body["current_nodes"], body["target_nodes"], body["idle_nodes"]) == (1, 1, 1)
        assert body["tier"] == "low_priority"
        assert body["resize_history"] == [{"time": clock.now(), "from": 0, "to": 1,
                                           "reason": "scale up 0 -> 1: min_instances is 1"}]

    def test_raising_the_maximum_admits_the_runs_that_now_fit(self, container, clock):
        create_pool(container, most=1)
        first, second = submit(container), submit(container)
        assert scale(container) == [first]
        create_pool(container, most=2, key="raised")
        assert pool(container)["current_nodes"] == 1  # the nodes stay as they were
        assert scale(container) == [second]
        assert pool(container)["current_nodes"] == 2


class TestAdmitting:
    def test_a_pool_of_two_runs_two_one_node_runs_and_queues_the_third(self, container, clock):
        create_pool(container, most=2)
        a, b, c = submit(container), submit(container), submit(container)
        assert scale(container) == [a, b]
        assert status(container, c) == "Queued"
        body = pool(container)
        assert (body["current_nodes"], body["target_nodes"], body["idle_nodes"]) == (2, 2, 0)
        assert body["allocations"] == {a: 1, b: 1}
        end(container, a)
        assert scale(container) == [c]
        assert pool(container)["allocations"] == {b: 1, c: 1}

    def test_a_run_that_does_not_fit_keeps_the_runs_behind_it_waiting(self, container, clock):
        create_pool(container, most=3)
        small = submit(container)
        big, after = submit(container, nodes=3), submit(container)
        assert scale(container) == [small]
        assert (status(container, big), status(container, after)) == ("Queued", "Queued")
        end(container, small)
        assert scale(container) == [big]

    def test_a_run_larger_than_a_lowered_maximum_fails_and_the_next_starts(self, container,
                                                                          clock):
        create_pool(container, most=3)
        running = submit(container)
        big, after = submit(container, nodes=3), submit(container)
        assert scale(container) == [running]
        create_pool(container, most=2, key="lowered")
        assert scale(container) == [after]
        run = container.registry.get("run", big).body
        assert run["status"] == "Failed"
        assert run["error"]["message"] == ("resources.instance_count 3 exceeds compute 'gpu' "
                                           "max_instances 2")

    def test_a_run_canceled_while_queued_is_never_launched(self, container, clock):
        create_pool(container, most=1)
        first, second = submit(container), submit(container)
        assert scale(container) == [first]
        transition(container.registry, second, RunStatus.CANCELED, clock)
        end(container, first)
        assert scale(container) == []
        assert pool(container)["allocations"] == {}

    def test_the_implicit_local_pool_gets_a_record_on_first_use(self, container, clock):
        run_id = submit(container, compute="local")
        assert scale(container) == [run_id]
        body = pool(container, "local")
        assert (body["type"], body["max_instances"], body["current_nodes"]) == ("local", 4, 1)


class TestRedelivery:
    def test_a_redelivered_decision_changes_nothing(self, container, clock):
        create_pool(container, most=2)
        run_id = submit(container)
        assert scale(container) == [run_id]
        before = pool(container)
        scale_pool(Envelope(ScalePool("gpu"), id=f"{run_id}-submitted"), **_ports(container))
        assert launches(container) == []  # the same launch id: a duplicate the bus drops
        assert pool(container) == before

    def test_a_decision_that_loses_a_race_is_made_again_on_the_winners_ledger(
            self, container, clock):
        create_pool(container, most=3)
        first = submit(container)
        rival = {}

        def another_run_arrives_and_is_admitted():
            rival["run"] = submit(container)
            scale_pool(Envelope(ScalePool("gpu")), **_ports(container))

        ports = {**_ports(container),
                 "registry": Interleaved(container.registry, another_run_arrives_and_is_admitted)}
        scale_pool(Envelope(ScalePool("gpu")), **ports)
        body = pool(container)
        assert body["allocations"] == {first: 1, rival["run"]: 1}
        assert body["current_nodes"] == 2
        assert [h["to"] for h in body["resize_history"]] == [2]
        assert launches(container) == [first, rival["run"]]


def two_runs_on_two_nodes_ended(container) -> None:
    create_pool(container, most=2, idle_s=120)
    runs = [submit(container), submit(container)]
    scale(container)
    for run_id in runs:
        end(container, run_id)
    scale(container)


class TestScalingDown:
    def test_idle_nodes_go_after_the_idle_time_when_the_timer_asks(self, container, clock):
        two_runs_on_two_nodes_ended(container)
        idle_since = clock.now()
        body = pool(container)
        assert (body["current_nodes"], body["idle_nodes"], body["idle_since"]) == (
            2, 2, idle_since)
        clock.advance(119)
        assert tick_pools(**_ports(container)) == ["gpu"]
        scale(container)
        assert pool(container)["current_nodes"] == 2
        clock.advance(1)
        tick_pools(**_ports(container))
        scale(container)
        body = pool(container)
        assert (body["current_nodes"], body["target_nodes"], body["idle_nodes"],
                body["idle_since"]) == (0, 0, 0, None)
        assert body["resize_history"][-1]["reason"].startswith(
            "scale down 2 -> 0: idle for 120 s")
        assert tick_pools(**_ports(container)) == []  # at rest: nothing to ask

    def test_the_nodes_are_noted_over_time_once_per_change(self, container, clock):
        two_runs_on_two_nodes_ended(container)
        clock.advance(60)
        tick_pools(**_ports(container))  # changes nothing: no note
        scale(container)
        clock.advance(60)
        tick_pools(**_ports(container))
        scale(container)
        noted = [(n["current_nodes"], n["target_nodes"], n["idle_nodes"])
                 for n in pool(container)["node_history"]]
        assert noted == [(0, 0, 0), (2, 2, 0), (2, 2, 2), (0, 0, 0)]

    def test_the_pool_timer_is_one_of_the_function_apps_triggers(self):
        import function_app
        from shared.localhost.triggers import interval_of, read_triggers

        [timer] = [t for t in read_triggers(function_app.app) if t.name == "pool_timer"]
        assert timer.kind == "timerTrigger"
        assert interval_of(timer.schedule) == 15


class Interleaved:
    """A registry through which a rival delivery decides the pool between this one's
    reading and its writing."""

    def __init__(self, inner, rival) -> None:
        self.inner, self.rival = inner, rival

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def put(self, record, *, etag=None):
        if record.kind == "compute" and self.rival is not None:
            rival, self.rival = self.rival, None
            rival()
        return self.inner.put(record, etag=etag)


def _ports(container) -> dict:
    p = container.ports()
    return {"registry": p["registry"], "bus": p["bus"], "clock": p["clock"]}
