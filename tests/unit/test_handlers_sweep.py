"""The sweep handler, driven message by message on the local adapters, with a compute
twin whose trials log what each test says: trials are planned and started up to the
limits, stopped by their policy with a reason, never started twice, and the sweep ends
with its best trial."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.domain.messages import AdvanceSweep, Envelope
from shared.domain.runs import transition
from shared.domain.status import RunStatus
from shared.handlers import sweep as sweep_handler
from shared.handlers.gave_up import record_gave_up
from shared.handlers.intake_sweeps import submit_sweep
from shared.handlers.registry import handle
from shared.handlers.sweep import NO_LIVE_METRICS, tick_sweeps
from shared.ports import NodeState
from shared.specs import load_spec
from tests.unit.spec_files import write

SWEEP = """$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
name: tune
trial:
  command: python train.py --x ${{search_space.x}} --kernel ${{inputs.kernel}}
  code: src
  environment: azureml:AzureML-sklearn-1.5@latest
sampling_algorithm: grid
search_space:
  x: {type: choice, values: [1, 2, 3, 4]}
  kernel: {type: choice, values: [rbf, "it's"]}
objective: {goal: maximize, primary_metric: score}
limits: {max_total_trials: 5, max_concurrent_trials: 2}
"""


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def now(self) -> str:
        return self.moment.isoformat()

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


class TrialCompute:
    """The Compute port as the sweep sees it: cancels are recorded."""

    builds_environments = False

    def __init__(self) -> None:
        self.logged: dict[str, list[float]] = {}
        self.canceled: list[str] = []

    def cancel(self, run_id):
        self.canceled.append(run_id)

    def poll(self, run_id):
        return NodeState("running")


class LiveCompute(TrialCompute):
    """One that reads running trials' metrics (ports.MetricsCompute): what each trial
    has logged so far is what the test says."""

    def read_metrics(self, run_id):
        values = self.logged.get(run_id, [])
        return {"score": [{"value": v, "step": i, "timestamp": i} for i, v in enumerate(values)]}


@pytest.fixture
def world(container, tmp_path):
    write(tmp_path, "src/train.py", "print('hi')\n")
    return World(container, write(tmp_path, "sweep.yml", SWEEP))


class World:
    def __init__(self, container, spec_file) -> None:
        self.container, self.spec_file = container, spec_file
        self.clock, self.compute = Clock(), LiveCompute()

    def submit(self, *overrides: str) -> dict:
        p = self.container.ports()
        spec = load_spec(self.spec_file, overrides=overrides)
        return submit_sweep(spec, key="k", blobs=p["blobs"], registry=p["registry"],
                            bus=p["bus"], clock=self.clock)

    def advance(self, times: int = 1) -> dict:
        ports = {**self.container.ports(), "clock": self.clock, "compute": self.compute}
        for _ in range(times):
            handle("sweep", Envelope(AdvanceSweep("tune")).to_json(), ports)
        return self.sweep()

    def sweep(self) -> dict:
        return self.container.registry.get("run", "tune").body

    def run(self, name: str) -> dict:
        return self.container.registry.get("run", name).body

    def trial_runs(self) -> list[dict]:
        return [r.body for r in self.container.registry.list("run") if r.body.get("parent")]

    def start(self, name: str, *values: float) -> None:
        transition(self.container.registry, name, RunStatus.RUNNING, self.clock)
        self.compute.logged[name] = list(values)

    def end(self, name: str, *values: float, status=RunStatus.COMPLETED, **fields) -> None:
        """What job-complete records when a trial's processes end."""
        if self.run(name)["status"] != RunStatus.RUNNING.value:
            self.start(name)
        points = [{"value": v, "step": i, "timestamp": i} for i, v in enumerate(values)]
        transition(self.container.registry, name, status, self.clock,
                   metrics={"score": values[-1]} if values else {},
                   metric_history={"score": points} if values else {}, **fields)


class TestPlanning:
    def test_the_first_trials_are_child_runs_handed_to_compute_scale(self, world):
        world.submit()
        sweep = world.advance()
        assert sweep["status"] == "Running"
        assert [t["name"] for t in sweep["trials"]] == ["tune_0", "tune_1"]
        first = world.run("tune_0")
        assert first["parent"] == "tune" and first["type"] == "command"
        assert first["hyperparameters"] == {"x": 1, "kernel": "rbf"}
        assert first["command"] == "python train.py --x 1 --kernel rbf"
        assert world.run("tune_1")["command"] == "python train.py --x 1 --kernel 'it'\"'\"'s'"
        assert first["snapshot"] == sweep["trial"]["snapshot"] and first["compute"] == "local"
        submitted = [e.id for e in world.container.bus.events() if e.type == "JobSubmitted"]
        assert submitted == ["tune_0-submitted", "tune_1-submitted"]

    def test_the_same_submission_twice_is_one_sweep_started_once(self, world):
        first, again = world.submit(), world.submit()
        assert first == again and len(world.container.registry.list("run")) == 1
        assert [e.id for e in world.container.bus.events() if e.type == "AdvanceSweep"] == \
            ["tune-start"]
        assert first["sweep"]["sampling"]["seed"] is not None  # chosen once, at intake

    def test_a_duplicate_advance_starts_no_trial_and_changes_nothing(self, world):
        world.submit()
        once = world.advance()
        again = world.advance(3)
        assert again["trials"] == once["trials"] and len(world.trial_runs()) == 2

    def test_trials_follow_as_others_end_until_max_total_and_the_best_is_named(self, world):
        world.submit()
        world.advance()
        scores = {"tune_0": 0.5, "tune_1": 0.9, "tune_2": 0.7, "tune_3": 0.2, "tune_4": 0.8}
        for name in scores:
            world.end(name, 0.1, scores[name])
            world.advance()
        sweep = world.sweep()
        assert [t["name"] for t in sweep["trials"]] == list(scores)
        assert sweep["status"] == "Completed" and sweep["best_child_run_id"] == "tune_1"
        assert sweep["metrics"] == {"score": 0.9}
        assert [t["metric"] for t in sweep["trials"]] == list(scores.values())
        assert len(world.trial_runs()) == 5  # max_total_trials, though the grid has 8
        assert [e.id for e in world.container.bus.events() if e.type == "JobCompleted"] == \
            ["tune-ended"]

    def test_a_grid_smaller_than_max_total_covers_each_point_once(self, world):
        world.submit("search_space.kernel={type: choice, values: [rbf]}",
                     "limits.max_total_trials=10", "limits.max_concurrent_trials=10")
        sweep = world.advance()
        assert sorted(t["hyperparameters"]["x"] for t in sweep["trials"]) == [1, 2, 3, 4]
        for t in sweep["trials"]:
            world.end(t["name"], t["hyperparameters"]["x"])
        assert world.advance()["status"] == "Completed" and len(world.trial_runs()) == 4

    def test_a_plan_whose_runs_were_never_created_is_started_by_the_next_delivery(
            self, world, monkeypatch):
        world.submit()

        def crash(*args, **kw):
            raise RuntimeError("the host died here")
        monkeypatch.setattr(sweep_handler, "start_trial", crash)
        with pytest.raises(RuntimeError):
            world.advance()
        assert [t["name"] for t in world.sweep()["trials"]] == ["tune_0", "tune_1"]
        assert world.trial_runs() == []
        monkeypatch.undo()
        sweep = world.advance(2)
        assert sorted(r["name"] for r in world.trial_runs()) == ["tune_0", "tune_1"]
        assert [t["status"] for t in sweep["trials"]] == ["NotStarted", "NotStarted"]

    def test_every_trial_failing_fails_the_sweep_saying_so(self, world):
        world.submit("limits.max_total_trials=2")
        world.advance()
        for name in ("tune_0", "tune_1"):
            world.end(name, status=RunStatus.FAILED, error={"message": "it broke"},
                      log_tail="ModuleNotFoundError: lightgbm")
        sweep = world.advance()
        assert sweep["status"] == "Failed" and sweep["best_child_run_id"] is None
        assert sweep["error"] == {"message": "no trial completed (2 failed, 0 canceled); the "
                                             "first to fail, tune_0: it broke"}
        assert sweep["log_tail"] == "ModuleNotFoundError: lightgbm"


BANDIT = ("early_termination={type: bandit, slack_factor: 0.25, evaluation_interval: 1, "
          "delay_evaluation: 1}")


class TestEarlyTermination:
    def test_a_lagging_trial_is_canceled_with_the_policys_reason(self, world):
        world.submit(BANDIT, "limits.max_concurrent_trials=3")
        world.advance()
        world.start("tune_0", 0.2, 0.3)
        world.start("tune_1", 0.9, 1.0)
        world.start("tune_2", 0.85, 0.8)
        sweep = world.advance()
        assert world.compute.canceled == ["tune_0"]
        lagging = world.run("tune_0")
        assert lagging["status"] == "CancelRequested"
        assert lagging["canceled_reason"] == (
            "bandit policy at interval 2: best score 0.3 is below 0.8, the slack_factor 0.25 "
            "of the best trial's 1 (tune_1)")
        assert sweep["trials"][0]["reason"] == lagging["canceled_reason"]
        world.advance()
        assert world.compute.canceled == ["tune_0"]  # asked once

    def test_before_the_delay_no_trial_is_judged(self, world):
        world.submit(BANDIT.replace("delay_evaluation: 1", "delay_evaluation: 3"))
        world.advance()
        world.start("tune_0", 0.1, 0.1)
        world.start("tune_1", 1.0, 1.0)
        world.advance()
        assert world.compute.canceled == []

    def test_a_compute_that_cannot_read_live_metrics_stops_nothing_and_says_so(self, world):
        world.compute = TrialCompute()
        world.submit(BANDIT)
        world.advance()
        world.start("tune_0", 0.1)
        world.start("tune_1", 1.0)
        sweep = world.advance()
        assert world.compute.canceled == [] and NO_LIVE_METRICS in sweep["warnings"]


class TestEnding:
    def test_a_canceled_sweep_stops_its_trials_and_ends_canceled_once_they_have(self, world):
        world.submit()
        world.advance()
        world.start("tune_0", 0.5)
        transition(world.container.registry, "tune", RunStatus.CANCEL_REQUESTED, world.clock)
        sweep = world.advance()
        assert world.run("tune_0")["status"] == "CancelRequested"
        assert world.run("tune_1")["status"] == "Canceled"  # never launched: ended at once
        assert world.run("tune_1")["canceled_reason"] == "the sweep was canceled"
        assert sweep["status"] == "CancelRequested"
        world.end("tune_0", 0.5, status=RunStatus.CANCELED)
        assert world.advance()["status"] == "Canceled" and len(world.trial_runs()) == 2

    def test_the_sweep_timeout_stops_running_trials_and_plans_no_more(self, world):
        world.submit("limits.timeout=60")
        world.advance()
        world.end("tune_0", 0.4)
        world.start("tune_1", 0.1)
        world.clock.advance(61)
        sweep = world.advance()
        assert world.run("tune_1")["canceled_reason"] == \
            "the sweep reached its limits.timeout of 60 s"
        assert [t["name"] for t in sweep["trials"]] == ["tune_0", "tune_1"]
        world.end("tune_1", 0.1, status=RunStatus.CANCELED)
        sweep = world.advance()
        assert sweep["status"] == "Completed" and sweep["best_child_run_id"] == "tune_0"

    def test_the_timer_asks_about_sweeps_that_have_not_ended_only(self, world):
        world.submit()
        p = world.container.ports()
        assert tick_sweeps(registry=p["registry"], bus=p["bus"], clock=world.clock) == ["tune"]
        transition(world.container.registry, "tune", RunStatus.CANCELED, world.clock)
        assert tick_sweeps(registry=p["registry"], bus=p["bus"], clock=world.clock) == []

    def test_an_advance_given_up_on_fails_the_sweep_with_the_reason_once(self, world):
        world.submit()
        world.advance()
        p = world.container.ports()
        body = Envelope(AdvanceSweep("tune")).to_json()
        for _ in range(2):
            record_gave_up(body, "boom", registry=p["registry"], bus=p["bus"], clock=world.clock)
        sweep = world.sweep()
        assert sweep["status"] == "Failed"
        assert sweep["error"] == {"message": "gave up on AdvanceSweep (boom)"}
        assert [s["status"] for s in sweep["status_history"]].count("Failed") == 1
