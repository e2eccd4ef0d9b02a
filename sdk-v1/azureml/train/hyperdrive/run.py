"""HyperDriveRun: a submitted HyperDriveConfig, which is an mlcycle sweep job; its
children are the sweep's trials, ordinary runs. And PrimaryMetricGoal."""
from __future__ import annotations

import enum
import json
import math
import sys
import time
from typing import Any, Iterator

from azureml.core._run_record import metrics_of
from azureml.core.run import TERMINAL, Run
from azureml.train.hyperdrive._sweep_job import NAMES_TAG
from azureml.train.hyperdrive.exceptions import HyperDriveConfigException

POLL_S = 1.0


class PrimaryMetricGoal(str, enum.Enum):
    """Whether the primary metric is to be maximized or minimized."""

    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"

    @staticmethod
    def from_str(goal: Any) -> "PrimaryMetricGoal":
        """The goal named by goal ("maximize", "MINIMIZE", a PrimaryMetricGoal).

        Raises:
            HyperDriveConfigException: neither.
        """
        if isinstance(goal, PrimaryMetricGoal):
            return goal
        try:
            return PrimaryMetricGoal(str(goal).upper())
        except ValueError:
            raise HyperDriveConfigException(f"primary_metric_goal {goal!r} is not "
                                            "PrimaryMetricGoal.MAXIMIZE or MINIMIZE") from None


class HyperDriveRun(Run):
    """A HyperDrive run: the sweep of a HyperDriveConfig, whose trials are its children.

    Parameters:
        experiment: the Experiment.
        run_id: the sweep's run id.
        hyperdrive_config: the HyperDriveConfig submitted (None when read back by id).
    """

    def __init__(self, experiment: Any, run_id: str, hyperdrive_config: Any = None,
                 _record: dict | None = None, **kwargs: Any) -> None:
        super().__init__(experiment, run_id, _record=_record)
        self._hyperdrive_config = hyperdrive_config

    @property
    def hyperdrive_config(self) -> Any:
        """The HyperDriveConfig this run was submitted with, if it was here."""
        return self._hyperdrive_config

    def get_children(self, recursive: bool = False, tags: Any = None, properties: Any = None,
                     type: str | None = None, status: str | None = None,
                     _rehydrate_runs: bool = True) -> Iterator[Run]:
        """The trials started so far, in the order they were planned (with status: those
        of that status; with tags, a key or {key: value}: those tagged so)."""
        for record in self._children():
            if status is not None and record.get("status") != status:
                continue
            if tags is not None and not _tagged(record.get("tags") or {}, tags):
                continue
            yield Run(self._experiment, record["name"], _record=record)

    def get_children_sorted_by_primary_metric(self, top: int = 0, reverse: bool = False,
                                              discard_no_metric: bool = False) -> list[dict]:
        """The trials, best first (worst first with reverse), as v1 lists them:
        `{"run_id", "hyperparameters", "best_primary_metric", "status"}`, where
        best_primary_metric is the best value the trial logged of the primary metric.
        Trials without one come last, or not at all with discard_no_metric; top > 0
        keeps that many."""
        ordered = self._ranked(self._children(), reverse, discard_no_metric)
        return ordered[:top] if top > 0 else ordered

    def get_best_run_by_primary_metric(self, include_failed: bool = True,
                                       include_canceled: bool = True,
                                       include_resume_from_runs: bool = True) -> Run | None:
        """The trial whose best primary metric is the best of all, as v1 finds it (failed
        and canceled trials count unless told not to); None while no trial has logged
        it."""
        excluded = {s for s, keep in (("Failed", include_failed),
                                      ("Canceled", include_canceled)) if not keep}
        records = self._children()
        by_name = {r["name"]: r for r in records}
        for row in self._ranked(records, reverse=False, discard_no_metric=True):
            if row["status"] not in excluded:
                return Run(self._experiment, row["run_id"], _record=by_name[row["run_id"]])
        return None

    def get_metrics(self, name: str | None = None, recursive: bool = False,
                    run_type: str | None = None, populate: bool = False) -> dict:
        """What each trial logged, by its run id (as v1's HyperDriveRun gives them)."""
        return {r["name"]: metrics_of(r, name) for r in self._children()}

    def get_hyperparameters(self) -> dict:
        """Each trial's hyperparameters, by its run id, named as in the search space given."""
        return {r["name"]: self._named(r.get("hyperparameters")) for r in self._children()}

    def get_details(self) -> dict:
        """The run's details, with the sweep's primary metric, best trial and definition."""
        details = super().get_details()
        sweep = self._record.get("sweep") or {}
        objective = sweep.get("objective") or {}
        details["properties"] = {
            **details["properties"],
            "primary_metric_config": json.dumps({"name": objective.get("primary_metric"),
                                                 "goal": objective.get("goal")}),
            "best_child_run_id": self._record.get("best_child_run_id")}
        details["runDefinition"] = {"trial": (self._record.get("trial") or {}).get("command"),
                                    **sweep}
        return details

    def cancel(self) -> bool:
        """Cancel the sweep: no more trials start, and those running are canceled."""
        super().cancel()
        return True

    def _stream(self) -> None:
        """The sweep as it goes: one line as each trial starts and as it ends."""
        url = self.get_portal_url()
        print(f"RunId: {self._id}\nWeb View: {url}\n\nStreaming the sweep's trials\n"
              f"{'=' * 28}\n", flush=True)
        said: dict[str, str] = {}
        while True:
            record = self._refresh()
            for trial in record.get("trials") or []:
                status = trial.get("status")
                if said.get(trial["name"]) != status and status != "NotStarted":
                    said[trial["name"]] = status
                    sys.stdout.write(self._line(trial) + "\n")
                    sys.stdout.flush()
            if record.get("status") in TERMINAL:
                break
            time.sleep(POLL_S)
        best = record.get("best_child_run_id")
        print(f"\nExecution Summary\n=================\nRunId: {self._id}\nWeb View: {url}\n"
              f"Best trial: {best or 'none'}\n", flush=True)

    def _line(self, trial: dict) -> str:
        named = json.dumps(self._named(trial["hyperparameters"]))
        line = f"{trial['name']}: {trial['status']} {named}"
        if trial.get("metric") is not None:
            line += f" {self._metric_name()}={trial['metric']}"
        return line + (f" ({trial['reason']})" if trial.get("reason") else "")

    def _ranked(self, records: list[dict], reverse: bool,
                discard_no_metric: bool) -> list[dict]:
        rows = [{"run_id": r["name"], "hyperparameters": self._named(r.get("hyperparameters")),
                 "best_primary_metric": self._best_value(r), "status": r.get("status")}
                for r in records]
        scored = [r for r in rows if r["best_primary_metric"] is not None]
        # Maximizing: highest first; the sort is stable, so ties keep trial order.
        scored.sort(key=lambda r: r["best_primary_metric"],
                    reverse=(self._goal() == "maximize") != reverse)
        return scored + ([] if discard_no_metric else
                         [r for r in rows if r["best_primary_metric"] is None])

    def _children(self) -> list[dict]:
        """The trials' run records, in trial order (one list of the API's runs)."""
        self._refresh()
        runs = self._conn.json("GET", "/api/jobs").get("value", [])
        return sorted((r for r in runs if r.get("parent") == self._id),
                      key=lambda r: r.get("sweep_index") or 0)

    def _best_value(self, record: dict) -> float | None:
        """The best value a trial logged of the primary metric: from its run history once
        it has ended, from what the sweep last saw of it before."""
        metric = self._metric_name()
        values = [p.get("value") for p in (record.get("metric_history") or {}).get(metric, [])]
        if not values:
            values = [(record.get("metrics") or {}).get(metric)]
            values += [t.get("metric") for t in self._record.get("trials") or []
                       if t["name"] == record["name"] and record.get("status") not in TERMINAL]
        values = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
                  and math.isfinite(v)]
        if not values:
            return None
        return max(values) if self._goal() == "maximize" else min(values)

    def _named(self, hyperparameters: dict | None) -> dict:
        """Hyperparameters by the names the search space was given (`--C`)."""
        hyperparameters = hyperparameters or {}
        given = json.loads((self._record.get("tags") or {}).get(NAMES_TAG) or "{}")
        v1_name = {v2: v1 for v1, v2 in given.items()}
        return {v1_name.get(k, k): v for k, v in hyperparameters.items()}

    def _metric_name(self) -> str:
        return ((self._details_record().get("sweep") or {}).get("objective") or {}).get(
            "primary_metric", "")

    def _goal(self) -> str:
        return ((self._details_record().get("sweep") or {}).get("objective") or {}).get(
            "goal", "maximize")

    def __repr__(self) -> str:
        return (f"Run(Experiment: {self._experiment.name},\nId: {self._id},\n"
                f"Type: hyperdrive,\nStatus: {self.status})")


def _tagged(run_tags: dict, wanted: Any) -> bool:
    if isinstance(wanted, str):
        return wanted in run_tags
    return all(run_tags.get(k) == str(v) for k, v in dict(wanted).items())
