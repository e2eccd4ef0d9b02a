"""The run a training script is part of (`Run.get_context()`).

Inside an mlcycle job the live run writes to the MLflow store mlcycle gave the process
(`MLFLOW_TRACKING_URI`, a folder of the run), which run history ingests when the job
ends: metrics (with steps), tags, and artifacts; files under outputs/ and logs/ go to
the run's own folders. No network and no key: a job is never given mlcycle's key.
Outside a job the run is offline and prints what it is given, as v1's does."""
from __future__ import annotations

import json
import numbers
import os
import shutil
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from azureml.core._job_spec import INPUT_NAMES
from azureml.core.run import Run
from azureml.exceptions import RunEnvironmentException, UserErrorException

_RUN_FOLDERS = ("outputs", "logs")  # collected from the job's working folder
_current: Run | None = None


def current(allow_offline: bool) -> Run:
    """The live run in an mlcycle job, else an offline run (one per process)."""
    global _current
    if _current is None:
        run_id = os.environ.get("MLCYCLE_RUN_ID") or os.environ.get("AZUREML_RUN_ID")
        if run_id:
            _current = _LiveRun(run_id)
        elif allow_offline:
            _current = _OfflineRun()
        else:
            raise RunEnvironmentException("Run.get_context(allow_offline=False) outside a "
                                          "run: MLCYCLE_RUN_ID is not set")
    return _current


class _ContextExperiment:
    """The experiment of the run a process is part of; its workspace is not reachable."""

    def __init__(self, name: str) -> None:
        self.name = self.id = name

    @property
    def workspace(self) -> Any:
        raise RunEnvironmentException(
            "the workspace is not reachable from inside a run: mlcycle gives jobs no key. "
            "Pass what the script needs as arguments or datasets")


class _ContextRun(Run):
    """What live and offline runs share: a record of what this process logged."""

    def __init__(self, run_id: str, experiment: str) -> None:
        super().__init__(_ContextExperiment(experiment), run_id, _record={})
        self._logged: dict[str, list] = {}
        self._tags: dict[str, str] = {}
        self._steps: Counter = Counter()

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log a number (a metric point, at step, or after the last one) or a string."""
        if isinstance(value, numbers.Real):
            at = self._steps[name] if step is None else int(step)
            self._steps[name] = at + 1
            self._metric(name, float(value), at)
        elif isinstance(value, str):
            self.tag(name, value)
        else:
            raise UserErrorException(f"Run.log({name!r}): a {type(value).__name__} is neither "
                                     "a number nor a string")
        self._logged.setdefault(name, []).append(value)

    def log_list(self, name: str, value: list, description: str = "") -> None:
        """Log each value of a list as the next point of the metric name."""
        for item in value:
            self.log(name, item)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Log one row of the table name: each column is the metric `<name>/<column>`,
        the row's index its step."""
        for column, value in kwargs.items():
            self.log(f"{name}/{column}", value)

    def log_table(self, name: str, value: dict, description: str = "") -> None:
        """Log a table given as {column: [values]}."""
        for column, values in value.items():
            self.log_list(f"{name}/{column}", list(values))

    def log_image(self, name: str, path: str | None = None, plot: Any = None,
                  description: str = "") -> None:
        """Log an image file (or a matplotlib figure) as the artifact `<name>.<ext>`."""
        if (path is None) == (plot is None):
            raise UserErrorException("Run.log_image takes a path or a plot (one of them)")
        with tempfile.TemporaryDirectory(prefix="azureml-image-") as tmp:
            if plot is not None:
                path = os.path.join(tmp, "plot.png")
                plot.savefig(path)
            target = os.path.join(tmp, name + (Path(path).suffix or ".png"))
            shutil.copyfile(path, target)
            self._artifact(target, "")

    def tag(self, key: str, value: Any = None) -> None:
        """Set a tag of the run (value None: an empty tag)."""
        self._tags[key] = "" if value is None else str(value)
        self._set_tag(key, self._tags[key])

    def set_tags(self, tags: Any) -> None:
        """Set several tags, from a dict or a list of keys."""
        for key, value in (tags.items() if isinstance(tags, dict) else ((t, None) for t in tags)):
            self.tag(key, value)

    def upload_file(self, name: str, path_or_stream: Any,
                    datastore_name: str | None = None) -> None:
        """Keep a file in the run's history under name (`outputs/model.pkl`, `model.pkl`)."""
        name = name.strip("/")
        if not name or ".." in name.split("/"):
            raise UserErrorException(f"upload_file: {name!r} is not a file name in a run")
        with tempfile.TemporaryDirectory(prefix="azureml-upload-") as tmp:
            source = os.path.join(tmp, os.path.basename(name))
            if isinstance(path_or_stream, (str, os.PathLike)):
                shutil.copyfile(path_or_stream, source)
            else:
                data = path_or_stream.read()
                Path(source).write_bytes(data.encode() if isinstance(data, str) else data)
            self._keep(name, source)

    def upload_folder(self, name: str, path: str, datastore_name: str | None = None) -> None:
        """Keep every file under path in the run's history, under name."""
        for folder, _, files in os.walk(path):
            for file in files:
                rel = os.path.relpath(os.path.join(folder, file), path)
                self.upload_file(f"{name.strip('/')}/{rel}", os.path.join(folder, file))

    def get_metrics(self, name: str | None = None, **kwargs: Any) -> dict:
        """What this process logged so far (one value, or the list of them)."""
        return {k: v[0] if len(v) == 1 else list(v) for k, v in self._logged.items()
                if name in (None, k)}

    def get_tags(self) -> dict:
        """The tags this process set."""
        return dict(self._tags)

    def get_status(self) -> str:
        """A run whose code is running is Running."""
        return "Running"

    def complete(self, _set_status: bool = True) -> None:
        """Nothing to do: the run ends when its processes do."""

    def fail(self, error_details: Any = None, **kwargs: Any) -> None:
        """Nothing to do: a run fails when its command exits non-zero."""

    def flush(self, timeout_seconds: int = 300) -> None:
        """Nothing to do: everything is written as it is logged."""

    def _details_record(self) -> dict:
        return {"status": "Running", "tags": self._tags}


class _LiveRun(_ContextRun):
    """The run of an mlcycle job, logging to the job's MLflow store."""

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id, os.environ.get("MLFLOW_EXPERIMENT_NAME", "Default"))

    @property
    def input_datasets(self) -> dict:
        """The run's datasets by their names, each the local folder of its files."""
        paths = {k[len("AZURE_ML_INPUT_"):]: v for k, v in os.environ.items()
                 if k.startswith("AZURE_ML_INPUT_")}
        renamed = json.loads(os.environ.get(INPUT_NAMES) or "{}")
        paths.update({v1: paths[v2] for v1, v2 in renamed.items() if v2 in paths})
        return paths

    def _metric(self, name: str, value: float, step: int) -> None:
        _mlflow().log_metric(name, value, step=step)

    def _set_tag(self, key: str, value: str) -> None:
        _mlflow().set_tag(key, value)

    def _artifact(self, file: str, folder: str) -> None:
        _mlflow().log_artifact(file, artifact_path=folder or None)

    def _keep(self, name: str, source: str) -> None:
        if name.split("/")[0] in _RUN_FOLDERS:  # the job's own folders, collected as they are
            code = Path(os.environ.get("MLCYCLE_NODE_DIR", "."), "code")
            target = (code if code.is_dir() else Path.cwd()) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        else:
            self._artifact(source, os.path.dirname(name))


class _OfflineRun(_ContextRun):
    """A run outside mlcycle: it prints what it is given and keeps nothing."""

    def __init__(self) -> None:
        super().__init__(f"OfflineRun_{uuid.uuid4()}", "Offline")
        self.input_datasets: dict = {}

    def _metric(self, name: str, value: float, step: int) -> None:
        print(f"Attempted to log scalar metric {name}:\n{value}")

    def _set_tag(self, key: str, value: str) -> None:
        print(f"Attempted to set tag {key}:\n{value}")

    def _artifact(self, file: str, folder: str) -> None:
        print(f"Attempted to log image metric {Path(file).stem}:\n{file}")

    def _keep(self, name: str, source: str) -> None:
        print(f"Attempted to upload file {name}")


def _mlflow() -> Any:
    try:
        import mlflow
    except ImportError:
        raise RunEnvironmentException(
            "Run.get_context() logs through MLflow, which this job's environment lacks; "
            "add mlflow-skinny to its packages") from None
    return mlflow
