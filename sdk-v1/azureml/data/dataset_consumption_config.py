"""DatasetConsumptionConfig: how a run takes a dataset (by name, mounted or downloaded)."""
from __future__ import annotations

import re
from contextlib import ExitStack
from typing import Any

_NOT_AN_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


class DatasetConsumptionConfig:
    """A dataset as one input of a run.

    Inside the run, the argument it stands in for is the local path of the files
    (`mode` "mount" or "download": both are a folder holding the dataset's files here),
    and `Run.get_context().input_datasets[name]` is that path too.

    Parameters:
        name: the input's name in the run.
        dataset: the FileDataset.
        mode: "direct", "mount" or "download".
        path_on_compute: accepted and not used (mlcycle chooses the path).
    """

    def __init__(self, name: str, dataset: Any, mode: str = "direct",
                 path_on_compute: str | None = None) -> None:
        self.name, self.dataset, self.mode = name, dataset, mode
        self.path_on_compute = path_on_compute

    def as_mount(self, path_on_compute: str | None = None) -> "DatasetConsumptionConfig":
        """The dataset mounted as a folder."""
        return DatasetConsumptionConfig(self.name, self.dataset, "mount", path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> "DatasetConsumptionConfig":
        """The dataset downloaded into a folder."""
        return DatasetConsumptionConfig(self.name, self.dataset, "download", path_on_compute)

    @property
    def _input_name(self) -> str:
        """The v2 input's name: Azure ML v2 takes identifiers only."""
        name = _NOT_AN_IDENTIFIER.sub("_", self.name)
        return name if name[:1].isalpha() or name[:1] == "_" else f"_{name}"

    def _input(self, stack: ExitStack) -> dict:
        """The v2 job input; a local dataset's folder lives as long as stack."""
        mode = "download" if self.mode == "download" else "ro_mount"
        return {"type": "uri_folder", "path": self.dataset._reference(stack), "mode": mode}
