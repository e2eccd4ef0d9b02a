"""ResourceConfiguration: what a model needs to be served (recorded with the model)."""
from __future__ import annotations


class ResourceConfiguration:
    """CPU, memory and GPU a model's deployment needs.

    Parameters:
        cpu: cores; memory_in_gb: memory; gpu: GPUs.
    """

    def __init__(self, cpu: float | None = None, memory_in_gb: float | None = None,
                 gpu: int | None = None) -> None:
        self.cpu, self.memory_in_gb, self.gpu = cpu, memory_in_gb, gpu

    def serialize(self) -> dict:
        """The configuration as v1 records it."""
        return {"cpu": self.cpu, "memoryInGB": self.memory_in_gb, "gpu": self.gpu}

    @staticmethod
    def deserialize(payload: dict) -> "ResourceConfiguration":
        """Read back serialize()."""
        return ResourceConfiguration(payload.get("cpu"), payload.get("memoryInGB"),
                                     payload.get("gpu"))
