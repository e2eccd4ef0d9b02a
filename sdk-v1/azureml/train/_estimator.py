"""What every v1 estimator shares: its arguments become a ScriptRunConfig (source folder,
entry script with script_params, compute target, environment, distribution), submitted as
any ScriptRunConfig is."""
from __future__ import annotations

import os
import warnings
from typing import Any

from azureml.core.conda_dependencies import CondaDependencies
from azureml.core.environment import DEFAULT_CPU_IMAGE, DEFAULT_GPU_IMAGE, Environment
from azureml.core.runconfig import (MpiConfiguration, PyTorchConfiguration, RunConfiguration,
                                    TensorflowConfiguration)
from azureml.core.script_run_config import ScriptRunConfig
from azureml.exceptions import UserErrorException

DEPRECATION = ("'{cls}' estimator class will be deprecated. Please use 'ScriptRunConfig' "
               "from 'azureml.core.script_run_config' with your own defined environment or "
               "{curated}.")
_BACKENDS = {"mpi": MpiConfiguration, "ps": TensorflowConfiguration,
             "gloo": PyTorchConfiguration, "nccl": PyTorchConfiguration}


class MMLBaseEstimator:
    """An estimator: a training script with its parameters and what it runs on.

    Parameters (as v1's Estimator takes them):
        source_directory: the code folder; entry_script: the script in it;
        script_params: {flag: value} (a value of "" or None: the flag alone; a
            dataset's as_mount(): its folder in the run);
        compute_target: a ComputeTarget, a name, or "local";
        node_count, process_count_per_node, distributed_training (MpiConfiguration,
            TensorflowConfiguration, PyTorchConfiguration, or azureml.train.dnn's Mpi,
            ParameterServer, Gloo, Nccl) or distributed_backend ("mpi", "ps", "gloo",
            "nccl"); worker_count, parameter_server_count (TensorFlow, "ps");
        use_gpu, custom_docker_image (custom_docker_base_image), user_managed,
            conda_packages, pip_packages, conda_dependencies_file, pip_requirements_file,
            environment_definition, environment_variables, inputs (datasets the script
            reads by Run.get_context().input_datasets), max_run_duration_seconds.
    Raises:
        UserErrorException: an argument this host cannot honour (vm_size without a
            compute target), or environment_definition with package arguments.
    """

    _CURATED: str | None = None  # the curated environment's name, {version} and {device}
    _DEFAULT_VERSION = ""

    def __init__(self, source_directory: str, *, compute_target: Any = None,
                 vm_size: str | None = None, vm_priority: str | None = None,
                 entry_script: str | None = None, script_params: dict | None = None,
                 node_count: int = 1, process_count_per_node: int = 1,
                 distributed_backend: str | None = None, distributed_training: Any = None,
                 use_gpu: bool = False, use_docker: bool = True,
                 custom_docker_base_image: str | None = None,
                 custom_docker_image: str | None = None, image_registry_details: Any = None,
                 user_managed: bool = False, conda_packages: list | None = None,
                 pip_packages: list | None = None, conda_dependencies_file_path: str | None = None,
                 pip_requirements_file_path: str | None = None,
                 conda_dependencies_file: str | None = None,
                 pip_requirements_file: str | None = None,
                 environment_variables: dict | None = None,
                 environment_definition: Environment | None = None, inputs: list | None = None,
                 source_directory_data_store: Any = None, shm_size: str | None = None,
                 resume_from: Any = None, max_run_duration_seconds: int | None = None,
                 framework_version: str | None = None, worker_count: int = 1,
                 parameter_server_count: int = 1, **kwargs: Any) -> None:
        curated = self._curated(framework_version, use_gpu)
        warnings.warn(DEPRECATION.format(
            cls=type(self).__name__,
            curated=f"the {curated} curated environment" if curated else
            "an Azure ML curated environment"), FutureWarning, stacklevel=2)
        if vm_size and compute_target is None:
            raise UserErrorException("vm_size without compute_target (a compute made for the "
                                     "run) is not offered: create a compute target with "
                                     "ComputeTarget.create and pass it")
        packages = any([conda_packages, pip_packages, conda_dependencies_file,
                        conda_dependencies_file_path, pip_requirements_file,
                        pip_requirements_file_path, custom_docker_image,
                        custom_docker_base_image])
        if environment_definition is not None and packages:
            raise UserErrorException("environment_definition cannot be combined with package "
                                     "or image arguments; put them in the environment")
        self.source_directory, self.entry_script = source_directory, entry_script
        self.script_params = dict(script_params or {})
        self.run_config = RunConfiguration()
        self.run_config.target = compute_target or "local"
        self.run_config.environment = environment_definition or self._environment(
            curated, use_gpu, user_managed, custom_docker_image or custom_docker_base_image,
            conda_packages, pip_packages, conda_dependencies_file or conda_dependencies_file_path,
            pip_requirements_file or pip_requirements_file_path)
        self.run_config.environment_variables = dict(environment_variables or {})
        self.run_config.max_run_duration_seconds = max_run_duration_seconds
        for consumed in inputs or ():
            self.run_config.data[consumed.name] = consumed
        distributed = _distribution(distributed_training, distributed_backend, node_count,
                                    process_count_per_node, worker_count, parameter_server_count)
        if distributed is not None:
            self.run_config._use(distributed)
        self.run_config.node_count = node_count

    def _curated(self, version: str | None, use_gpu: bool) -> str | None:
        if self._CURATED is None:
            return None
        return self._CURATED.format(version=version or self._DEFAULT_VERSION,
                                    device="GPU" if use_gpu else "CPU")

    def _environment(self, curated: str | None, use_gpu: bool, user_managed: bool,
                     image: str | None, conda_packages: list | None, pip_packages: list | None,
                     conda_file: str | None, pip_file: str | None) -> Environment:
        if conda_file:
            env = Environment.from_conda_specification(
                f"{type(self).__name__}-environment", self._source_file(conda_file))
        elif pip_file:
            env = Environment.from_pip_requirements(
                f"{type(self).__name__}-environment", self._source_file(pip_file))
        else:
            env = Environment(f"{type(self).__name__}-environment")
            env.python.conda_dependencies = CondaDependencies()
        env._curated = bool(curated and not image and not user_managed)
        if env._curated:
            env.name = curated
        env.environment_variables = {}
        env.docker.base_image = image or (DEFAULT_GPU_IMAGE if use_gpu else DEFAULT_CPU_IMAGE)
        env.python.user_managed_dependencies = user_managed
        for package in conda_packages or ():
            env.python.conda_dependencies.add_conda_package(package)
        for package in pip_packages or ():
            env.python.conda_dependencies.add_pip_package(package)
        return env

    def _source_file(self, name: str) -> str:
        return name if os.path.isabs(name) else os.path.join(self.source_directory, name)

    def _arguments(self) -> list:
        args: list = []
        for flag, value in self.script_params.items():
            args += [flag] if value in ("", None) else [flag, value]
        return args

    def _script_run_config(self) -> ScriptRunConfig:
        """The ScriptRunConfig the estimator stands for (what a HyperDrive trial runs)."""
        if not self.entry_script:
            raise UserErrorException(f"{type(self).__name__}: entry_script is required")
        return ScriptRunConfig(self.source_directory, script=self.entry_script,
                               arguments=self._arguments(), run_config=self.run_config)

    def _spec(self, experiment_name: str, tags: dict | None, stack: Any) -> dict:
        return self._script_run_config()._spec(experiment_name, tags, stack)


def _distribution(training: Any, backend: str | None, nodes: int, per_node: int,
                  workers: int, servers: int) -> Any:
    """The distributed job configuration an estimator's arguments stand for."""
    if training is None and backend is None:
        return None
    if training is None:
        kind = _BACKENDS.get(str(backend).lower())
        if kind is None:
            raise UserErrorException(f"distributed_backend {backend!r} is not one of "
                                     f"{', '.join(_BACKENDS)}")
        training = (kind(worker_count=workers, parameter_server_count=servers)
                    if kind is TensorflowConfiguration else
                    kind(communication_backend=backend.capitalize())
                    if kind is PyTorchConfiguration else kind())
    if isinstance(training, MpiConfiguration):
        training.node_count = nodes
        if training.process_count_per_node == 1:
            training.process_count_per_node = per_node
    elif isinstance(training, TensorflowConfiguration):
        training.node_count = nodes
    elif isinstance(training, PyTorchConfiguration):
        training.node_count = nodes
        training.process_count = training.process_count or nodes * per_node
    return training
