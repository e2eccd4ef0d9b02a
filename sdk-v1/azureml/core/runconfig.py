"""RunConfiguration and the distributed job configurations of SDK v1, and the Azure ML v2
`resources.instance_count` / `distribution` each one stands for."""
from __future__ import annotations

from typing import Any

from azureml.exceptions import UserErrorException


class MpiConfiguration:
    """An MPI job (Horovod's launcher): `mpirun` starts node_count x
    process_count_per_node ranks.

    Parameters:
        process_count_per_node: ranks per node (one per GPU, usually).
        node_count: how many nodes.
    """

    def __init__(self, process_count_per_node: int = 1, node_count: int = 1) -> None:
        self.process_count_per_node = process_count_per_node
        self.node_count = node_count

    def _distribution(self) -> tuple[int, dict]:
        return self.node_count, {"type": "mpi",
                                 "process_count_per_instance": self.process_count_per_node}


class TensorflowConfiguration:
    """A TensorFlow parameter-server (or multi-worker) job: every task gets `TF_CONFIG`.

    Parameters:
        worker_count: worker tasks.
        parameter_server_count: parameter server tasks.
    """

    def __init__(self, worker_count: int = 1, parameter_server_count: int = 1) -> None:
        self.worker_count = worker_count
        self.parameter_server_count = parameter_server_count
        self.node_count: int | None = None  # v1 gives each task a node of its own

    def _distribution(self) -> tuple[int, dict]:
        nodes = self.node_count or self.worker_count + self.parameter_server_count
        return nodes, {"type": "tensorflow", "worker_count": self.worker_count,
                       "parameter_server_count": self.parameter_server_count}


class PyTorchConfiguration:
    """A torch.distributed job: every process gets MASTER_ADDR, MASTER_PORT, WORLD_SIZE,
    RANK, LOCAL_RANK and NODE_RANK.

    Parameters:
        communication_backend: "Nccl" or "Gloo" (the script picks its backend; recorded).
        process_count: processes in all (node_count x per node); None: one per node, for
            a launcher such as torch.distributed.launch started once per node.
        node_count: how many nodes.
    """

    def __init__(self, communication_backend: str = "Nccl", process_count: int | None = None,
                 node_count: int = 1) -> None:
        self.communication_backend = communication_backend
        self.process_count = process_count
        self.node_count = node_count

    def _distribution(self) -> tuple[int, dict]:
        total = self.process_count or self.node_count
        if total % self.node_count:
            raise UserErrorException(f"PyTorchConfiguration: process_count {total} is not a "
                                     f"multiple of node_count {self.node_count}")
        return self.node_count, {"type": "pytorch",
                                 "process_count_per_instance": total // self.node_count}


class DockerConfiguration:
    """Docker settings of a run; recorded, not used (jobs run as local processes here)."""

    def __init__(self, use_docker: bool | None = None, shm_size: str | None = None,
                 shared_volumes: bool | None = None, arguments: list | None = None) -> None:
        self.use_docker, self.shm_size = use_docker, shm_size
        self.shared_volumes, self.arguments = shared_volumes, arguments or []


_DISTRIBUTED = (MpiConfiguration, TensorflowConfiguration, PyTorchConfiguration)


class RunConfiguration:
    """What a run needs besides its code: where it runs (`target`), on what
    (`environment`), on how many nodes and how distributed, with which environment
    variables and data.

    Parameters:
        script, arguments, command: the run's entry point, as ScriptRunConfig takes them.
        framework, communicator: v1's names for the distribution ("Python", "TensorFlow",
            "PyTorch"; "None", "IntelMpi", "ParameterServer", "Nccl", "Gloo").
        conda_dependencies: a CondaDependencies for the environment's python section.
    """

    def __init__(self, script: str | None = None, arguments: list | None = None,
                 framework: str | None = None, communicator: str | None = None,
                 conda_dependencies: Any = None, _history_enabled: Any = None,
                 _path: Any = None, _name: str | None = None, command: Any = None) -> None:
        from azureml.core.environment import Environment

        self.script, self.arguments, self.command = script, list(arguments or []), command
        self.framework, self.communicator = framework or "Python", communicator or "None"
        self.target: Any = "local"
        self.environment = Environment(_name or "default-environment")
        if conda_dependencies is not None:
            self.environment.python.conda_dependencies = conda_dependencies
        self.node_count = 1
        self.mpi = MpiConfiguration()
        self.tensorflow = TensorflowConfiguration()
        self.pytorch = PyTorchConfiguration()
        self.docker = DockerConfiguration()
        self.environment_variables: dict[str, str] = {}
        self.max_run_duration_seconds: int | None = None
        self.data: dict[str, Any] = {}  # name -> DatasetConsumptionConfig

    def _use(self, distributed: Any) -> None:
        """Take a distributed job configuration, as ScriptRunConfig's
        distributed_job_config sets it."""
        if not isinstance(distributed, _DISTRIBUTED):
            raise UserErrorException(
                "distributed_job_config must be an MpiConfiguration, TensorflowConfiguration "
                f"or PyTorchConfiguration, not {type(distributed).__name__}")
        if isinstance(distributed, MpiConfiguration):
            self.mpi, self.communicator = distributed, "IntelMpi"
        elif isinstance(distributed, TensorflowConfiguration):
            self.tensorflow, self.framework = distributed, "TensorFlow"
            self.communicator = "ParameterServer"
        else:
            self.pytorch, self.framework = distributed, "PyTorch"
            self.communicator = distributed.communication_backend
        self.node_count = distributed._distribution()[0]

    def _distribution(self) -> tuple[int, dict | None]:
        """(resources.instance_count, distribution) of the v2 job."""
        chosen = {"IntelMpi": self.mpi, "OpenMpi": self.mpi, "Mpi": self.mpi,
                  "ParameterServer": self.tensorflow, "Nccl": self.pytorch,
                  "Gloo": self.pytorch}.get(self.communicator)
        if chosen is None:
            return self.node_count, None
        nodes, distribution = chosen._distribution()
        return max(nodes, self.node_count), distribution
