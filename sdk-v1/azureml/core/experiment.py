"""Experiment: a named group of runs, and where runs are submitted."""
from __future__ import annotations

from contextlib import ExitStack
from typing import Any, Iterator

from azureml.exceptions import ExperimentExecutionException


class Experiment:
    """The runs of one experiment name in a workspace (the v2 job's experiment_name).

    Parameters:
        workspace: the Workspace.
        name: the experiment's name.
    """

    def __init__(self, workspace: Any, name: str, **kwargs: Any) -> None:
        self._workspace, self._name = workspace, name

    @property
    def workspace(self) -> Any:
        """The workspace the experiment is in."""
        return self._workspace

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self._name

    @property
    def id(self) -> str:
        """The experiment's name (mlcycle keys experiments by name)."""
        return self._name

    def submit(self, config: Any, tags: dict | None = None, **kwargs: Any) -> Any:
        """Submit a ScriptRunConfig, an estimator or a HyperDriveConfig: its v2 command
        job (a sweep job for a HyperDriveConfig) is bundled with its source folder and
        local datasets and posted to /api/jobs, as `mlcycle job create -f` does.

        Returns:
            The Run (a HyperDriveRun for a HyperDriveConfig), NotStarted or Queued.
        Raises:
            ExperimentExecutionException: config is not something that runs, or mlcycle
                refused the job (the reason is the message).
        """
        from azureml.core.run import Run

        if not hasattr(config, "_spec"):
            raise ExperimentExecutionException(
                f"Experiment.submit takes a ScriptRunConfig, an estimator or a "
                f"HyperDriveConfig, not {type(config).__name__}")
        with ExitStack() as stack:
            spec = config._spec(self.name, tags, stack)
            record = self._workspace._conn.submit("/api/jobs", spec,
                                                  error=ExperimentExecutionException)
        return Run._of(self, record, hyperdrive_config=config)

    def get_runs(self, type: str | None = None, tags: Any = None, properties: Any = None,
                 include_children: bool = False) -> Iterator[Any]:
        """The experiment's runs, newest first; a sweep's trials only with
        include_children."""
        from azureml.core.run import Run

        for record in self._workspace._conn.json("GET", "/api/jobs").get("value", []):
            if record.get("experiment_name") == self.name and (
                    include_children or not record.get("parent")):
                yield Run._of(self, record)

    @staticmethod
    def list(workspace: Any, experiment_name: str | None = None, **kwargs: Any) -> list:
        """The experiments that have runs (or the one named experiment_name)."""
        names = {r.get("experiment_name") for r in
                 workspace._conn.json("GET", "/api/jobs").get("value", [])}
        return [Experiment(workspace, n) for n in sorted(n for n in names if n)
                if experiment_name in (None, n)]

    def __repr__(self) -> str:
        return f"Experiment(Name: {self.name}, Workspace: {self._workspace.name})"
