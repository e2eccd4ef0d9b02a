"""ScriptRunConfig: a script (or command), its source folder, arguments, compute target,
environment and distribution, as one submission."""
from __future__ import annotations

from typing import Any

from azureml.core.runconfig import RunConfiguration
from azureml.exceptions import UserErrorException


class ScriptRunConfig:
    """What `Experiment.submit` runs: `python <script> <arguments>` (or `command`) in a
    snapshot of source_directory.

    Parameters:
        source_directory: the folder uploaded as the run's code (honouring .amlignore).
        script: the script, relative to source_directory.
        arguments: its command-line arguments; a dataset's `as_mount()` or
            `as_named_input(n).as_mount()` stands for its local folder in the run.
        run_config: a RunConfiguration; compute_target, environment and
            distributed_job_config set its target, environment and distribution.
        compute_target: a ComputeTarget, a compute name, or "local".
        environment: an Environment.
        distributed_job_config: MpiConfiguration, TensorflowConfiguration or
            PyTorchConfiguration.
        max_run_duration_seconds: the run's limit (the v2 job's limits.timeout).
        command: instead of script, a command (a string, or a list joined by spaces, whose
            `$VARIABLES` the shell expands).
    Raises:
        UserErrorException: both script and command, or neither.
    """

    MAX_DURATION_SECONDS_DEFAULT = 2592000

    def __init__(self, source_directory: str, script: str | None = None,
                 arguments: list | None = None, run_config: RunConfiguration | None = None,
                 _telemetry_values: Any = None, compute_target: Any = None,
                 environment: Any = None, distributed_job_config: Any = None,
                 resume_from: Any = None,
                 max_run_duration_seconds: int | None = MAX_DURATION_SECONDS_DEFAULT,
                 command: Any = None, docker_runtime_config: Any = None) -> None:
        self.source_directory = source_directory
        self.run_config = run_config or RunConfiguration()
        self.script = script if script is not None else self.run_config.script
        self.command = command if command is not None else self.run_config.command
        if (self.script is None) == (self.command is None):
            raise UserErrorException("ScriptRunConfig takes a script or a command (one of them)")
        self.arguments = list(arguments if arguments is not None else self.run_config.arguments)
        if compute_target is not None:
            self.run_config.target = compute_target
        if environment is not None:
            self.run_config.environment = environment
        if distributed_job_config is not None:
            self.run_config._use(distributed_job_config)
        if max_run_duration_seconds not in (None, self.MAX_DURATION_SECONDS_DEFAULT):
            self.run_config.max_run_duration_seconds = max_run_duration_seconds
        if docker_runtime_config is not None:
            self.run_config.docker = docker_runtime_config

    @property
    def distributed_job_config(self) -> Any:
        """The distributed job configuration the run config uses, if any."""
        return {"IntelMpi": self.run_config.mpi, "ParameterServer": self.run_config.tensorflow,
                "Nccl": self.run_config.pytorch, "Gloo": self.run_config.pytorch
                }.get(self.run_config.communicator)

    def _spec(self, experiment_name: str, tags: dict | None, stack: Any) -> dict:
        from azureml.core._job_spec import command_job

        return command_job(self, experiment_name, tags, stack)
