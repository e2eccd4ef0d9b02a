"""`azureml.train.dnn`: the TensorFlow and PyTorch estimators of SDK v1, and their
distributed backends."""
from __future__ import annotations

from azureml.core.runconfig import (MpiConfiguration, PyTorchConfiguration,
                                    TensorflowConfiguration)
from azureml.train._estimator import MMLBaseEstimator


class TensorFlow(MMLBaseEstimator):
    """A TensorFlow script on the curated TensorFlow environment (framework_version,
    use_gpu); distributed_backend "mpi" (Horovod) or "ps" (parameter servers, with
    worker_count and parameter_server_count)."""

    _CURATED = "AzureML-TensorFlow-{version}-{device}"
    _DEFAULT_VERSION = "2.2"


class PyTorch(MMLBaseEstimator):
    """A PyTorch script on the curated PyTorch environment (framework_version, use_gpu);
    distributed_training Mpi() (Horovod), Gloo() or Nccl() (torch.distributed)."""

    _CURATED = "AzureML-PyTorch-{version}-{device}"
    _DEFAULT_VERSION = "1.6"


class Chainer(MMLBaseEstimator):
    """A Chainer script (on the host's packages: no curated Chainer environment here)."""


class Mpi(MpiConfiguration):
    """MPI (Horovod) distributed training: process_count_per_node ranks per node."""


class ParameterServer(TensorflowConfiguration):
    """TensorFlow parameter-server training: worker_count workers and
    parameter_server_count parameter servers, each told its task by TF_CONFIG."""


class Gloo(PyTorchConfiguration):
    """torch.distributed over Gloo: each process gets MASTER_ADDR, RANK, WORLD_SIZE..."""

    def __init__(self) -> None:
        super().__init__(communication_backend="Gloo")


class Nccl(PyTorchConfiguration):
    """torch.distributed over NCCL (GPUs; on CPUs the script must pick gloo)."""

    def __init__(self) -> None:
        super().__init__(communication_backend="Nccl")


__all__ = ["Chainer", "Gloo", "Mpi", "Nccl", "ParameterServer", "PyTorch", "TensorFlow"]
