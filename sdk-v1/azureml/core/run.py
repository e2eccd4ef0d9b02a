"""Run: a submitted run seen from outside it (status, logs, metrics, files, models), and
`Run.get_context()`, the run a training script is part of."""
from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from azureml.core._connection import quote
from azureml.core._run_record import metrics_of, script_arguments
from azureml.exceptions import (ActivityFailedException, ModelPathNotFoundException,
                                UserErrorException)

TERMINAL = ("Completed", "Failed", "Canceled")
POLL_S = 0.5


class Run:
    """A run of an experiment, as mlcycle's run history records it.

    Parameters:
        experiment: the Experiment the run belongs to.
        run_id: the run's id (the v2 job's name).
    """

    def __init__(self, experiment: Any, run_id: str, outputs: Any = None,
                 _record: dict | None = None, **kwargs: Any) -> None:
        self._experiment, self._id, self._record = experiment, run_id, _record

    @classmethod
    def get_context(cls, allow_offline: bool = True, used_for_context_manager: bool = False,
                    **kwargs: Any) -> "Run":
        """The run this process is part of: inside an mlcycle job (MLCYCLE_RUN_ID is set)
        the live run, whose log, tag and upload_file land in the run's history; anywhere
        else an offline run that prints what it is given.

        Raises:
            RunEnvironmentException: outside a job with allow_offline False.
        """
        from azureml.core._run_context import current

        return current(allow_offline)

    @staticmethod
    def get(workspace: Any, run_id: str) -> "Run":
        """The run run_id of the workspace (a HyperDriveRun for a sweep)."""
        from azureml.core.experiment import Experiment

        record = workspace._conn.json("GET", f"/api/jobs/{quote(run_id)}")
        return Run._of(Experiment(workspace, record.get("experiment_name") or "Default"),
                       record)

    @staticmethod
    def _of(experiment: Any, record: dict, **kwargs: Any) -> "Run":
        """The Run of a record: a HyperDriveRun for a sweep, else a Run."""
        if record.get("type") == "sweep":
            from azureml.train.hyperdrive.run import HyperDriveRun

            return HyperDriveRun(experiment, record["name"], _record=record, **kwargs)
        return Run(experiment, record["name"], _record=record)

    @property
    def id(self) -> str:
        """The run's id."""
        return self._id

    @property
    def experiment(self) -> Any:
        """The run's Experiment."""
        return self._experiment

    @property
    def display_name(self) -> str:
        """The run's display name."""
        return self._details_record().get("display_name") or self._id

    @property
    def status(self) -> str:
        """The status last read (get_status() reads it again)."""
        return self._details_record().get("status", "NotStarted")

    @property
    def tags(self) -> dict:
        """The run's tags: the job's own, and those its script set with `tag`."""
        return dict(self._details_record().get("tags") or {})

    @property
    def properties(self) -> dict:
        """The run's parameters (MLflow params it logged)."""
        return dict(self._details_record().get("params") or {})

    def get_tags(self) -> dict:
        """The run's tags, read again."""
        return dict(self._refresh().get("tags") or {})

    def get_properties(self) -> dict:
        """The run's properties, read again."""
        return dict(self._refresh().get("params") or {})

    def get_status(self) -> str:
        """NotStarted, Queued, Preparing, Starting, Running, Finalizing, Completed,
        Failed, Canceled or CancelRequested."""
        return self._refresh().get("status", "NotStarted")

    def get_details(self) -> dict:
        """The run as v1's run history describes it: runId, target, status, times,
        properties, inputDatasets, runDefinition, logFiles, warnings and error."""
        record = self._refresh()
        base = f"{self._conn.endpoint}/api/jobs/{quote(self._id)}/files/"
        logs = {name: base + name for name in self._files() if name.startswith("user_logs/")}
        details = {
            "runId": self._id, "target": record.get("compute"), "status": record.get("status"),
            "startTimeUtc": record.get("start_time"), "endTimeUtc": record.get("end_time"),
            "properties": dict(record.get("params") or {}), "tags": record.get("tags") or {},
            "inputDatasets": [{"dataset": {"id": i.get("asset")}, "consumptionDetails":
                               {"inputName": name}}
                              for name, i in (record.get("inputs") or {}).items()
                              if isinstance(i, dict) and i.get("asset")],
            "runDefinition": {"command": record.get("command"),
                              "arguments": script_arguments(record.get("command")),
                              "environment": record.get("environment"),
                              "nodeCount": record.get("instance_count") or 1,
                              "distribution": record.get("distribution")},
            "logFiles": logs, "warnings": record.get("warnings") or []}
        if record.get("error"):
            details["error"] = {"error": {"code": "UserError", "message":
                                          record["error"].get("message", "")}}
        return details

    def get_metrics(self, name: str | None = None, recursive: bool = False,
                    run_type: str | None = None, populate: bool = False) -> dict:
        """What the run logged: a metric logged once is its value, one logged more than
        once (or with log_list) the list of its values in step order; a row metric's
        columns are `<table>/<column>`."""
        return metrics_of(self._refresh(), name)

    def get_file_names(self) -> list[str]:
        """The run's files: outputs/, logs/, user_logs/ and the artifacts it uploaded."""
        return self._files()

    def download_file(self, name: str, output_file_path: str | None = None,
                      _validate_checksum: bool = False) -> None:
        """Download one of the run's files, to output_file_path (a file, or a folder to
        put it in; default: its name, here)."""
        target = output_file_path or os.path.basename(name)
        if os.path.isdir(target):
            target = os.path.join(target, os.path.basename(name))
        data = self._conn.request("GET", f"/api/jobs/{quote(self._id)}/files/"
                                  f"{'/'.join(quote(p) for p in name.split('/'))}",
                                  headers={"Accept": "*/*"}).body
        os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(data)

    def download_files(self, prefix: str | None = None, output_directory: str | None = None,
                       output_paths: list[str] | None = None, batch_size: int = 100,
                       append_prefix: bool = True, timeout_seconds: int | None = None) -> None:
        """Download every file whose name starts with prefix into output_directory
        (default: here); append_prefix=False drops the prefix from the local names."""
        chosen = [f for f in self._files() if not prefix or f.startswith(prefix)]
        for i, name in enumerate(chosen):
            local = name if append_prefix or not prefix else name[len(prefix):].lstrip("/")
            target = (output_paths[i] if output_paths else
                      os.path.join(output_directory or ".", local))
            self.download_file(name, target)

    def register_model(self, model_name: str, model_path: str | None = None,
                       tags: dict | None = None, properties: dict | None = None,
                       model_framework: str | None = None,
                       model_framework_version: str | None = None,
                       description: str | None = None, datasets: Any = None,
                       sample_input_dataset: Any = None, sample_output_dataset: Any = None,
                       resource_configuration: Any = None, **kwargs: Any) -> Any:
        """Register a file or folder the run uploaded as a new version of model_name.

        Parameters:
            model_path: the path among get_file_names() (`outputs/model`); None: model_name
                is the path, as in v1.
        Raises:
            ModelPathNotFoundException: the run has no such file or folder.
        """
        from azureml.core.model import Model

        path = (model_path or model_name).strip("/")
        files = self._files()
        if not any(f == path or f.startswith(path + "/") for f in files):
            raise ModelPathNotFoundException(
                f"Could not locate the provided model_path {path} in the set of files "
                f"uploaded to the run: {files}\nSee https://aka.ms/run-logging for more "
                "details.")
        return Model._register(
            self._experiment.workspace, model_name,
            f"azureml://jobs/{self._id}/outputs/artifacts/paths/{path}", tags=tags,
            properties=properties, framework=model_framework,
            framework_version=model_framework_version, description=description,
            sample_input_dataset=sample_input_dataset,
            resource_configuration=resource_configuration)

    def get_portal_url(self) -> str:
        """The run's page in mlcycle's studio (/api/studio on every mlcycle host)."""
        return f"{self._conn.endpoint}/api/studio/runs/{quote(self._id)}"

    def cancel(self) -> None:
        """Ask for the run to be canceled."""
        self._record = self._conn.json("POST", f"/api/jobs/{quote(self._id)}/cancel")

    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True) -> dict:
        """Wait for the run to end, printing rank 0's log as it grows with show_output.

        Returns:
            get_details() of the ended run.
        Raises:
            ActivityFailedException: the run failed or was canceled, with raise_on_error.
        """
        if show_output:
            self._stream()
        else:
            while self.get_status() not in TERMINAL:
                time.sleep(POLL_S)
        details = self.get_details()
        if raise_on_error and details["status"] != "Completed":
            reason = details.get("error") or {"error": {"message": f"the run is "
                                                                   f"{details['status']}"}}
            raise ActivityFailedException("Activity Failed:\n" + json.dumps(reason, indent=4))
        return details

    def _stream(self) -> None:
        import codecs

        url = self.get_portal_url()
        print(f"RunId: {self._id}\nWeb View: {url}\n\nStreaming user_logs/"
              f"std_log_process_0.txt\n{'=' * 38}\n", flush=True)
        decoder, offset = codecs.getincrementaldecoder("utf-8")(errors="replace"), 0
        route = f"/api/jobs/{quote(self._id)}/logs?rank=0&offset="
        while True:
            resp = self._conn.request("GET", f"{route}{offset}", headers={"Accept": "text/plain"})
            sys.stdout.write(decoder.decode(resp.body))
            sys.stdout.flush()
            offset = int(resp.headers.get("x-next-offset") or offset + len(resp.body))
            if resp.headers.get("x-run-status") in TERMINAL and not resp.body:
                break
            if not resp.body:
                time.sleep(POLL_S)
        print(f"{decoder.decode(b'', final=True)}\nExecution Summary\n=================\n"
              f"RunId: {self._id}\nWeb View: {url}\n", flush=True)

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Metrics are logged from inside the run (Run.get_context().log)."""
        raise UserErrorException("log from inside the run, with Run.get_context(): mlcycle "
                                 "takes a run's metrics from what its processes recorded")

    @property
    def _conn(self) -> Any:
        return self._experiment.workspace._conn

    def _refresh(self) -> dict:
        self._record = self._conn.json("GET", f"/api/jobs/{quote(self._id)}")
        return self._record

    def _details_record(self) -> dict:
        return self._record if self._record is not None else self._refresh()

    def _files(self) -> list[str]:
        return self._conn.json("GET", f"/api/jobs/{quote(self._id)}/files").get("value", [])

    def __repr__(self) -> str:
        return (f"Run(Experiment: {self._experiment.name},\nId: {self._id},\n"
                f"Type: azureml.scriptrun,\nStatus: {self.status})")
