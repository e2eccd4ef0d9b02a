"""Reading an MLflow file store while its run still writes to it: what a sweep's early
termination judges running trials by (LocalCompute.read_metrics)."""
from __future__ import annotations

from pathlib import Path

from shared.runner.metrics import read_mlflow_metrics


def read_store_folder(store: Path) -> dict[str, list[dict]]:
    """Metric key -> points {"value", "step", "timestamp"} in step order, of the MLflow
    store at `store` (a `file://` tracking URI's folder); {} before it exists. A line
    being written at that moment does not parse and is skipped until it is whole."""
    if not store.is_dir():
        return {}
    files = {}
    for path in store.glob("*/*/metrics/**/*"):
        try:
            if path.is_file():
                files[path.relative_to(store).as_posix()] = path.read_bytes()
        except FileNotFoundError:  # MLflow replaces files as it goes
            continue
    return read_mlflow_metrics(files)[0]
