"""Reading what MLflow's file store recorded, so metrics land in run history.

The store's layout (MLflow 2 and 3): <experiment>/<run>/metrics/<key> with one line
"<timestamp ms> <value> <step>" per logged value, and <experiment>/<run>/params/<key>
holding the value. Keys may contain "/", which the store turns into sub-folders.
Metrics of all runs in the store are merged by key (a job is one run in run history).
"""
from __future__ import annotations

from collections.abc import Mapping

from shared.ports import BlobStore


def _split(path: str, kind: str) -> str | None:
    """The metric or param key of a store-relative path, or None if it is not one."""
    parts = path.strip("/").split("/")
    if len(parts) < 4 or parts[2] != kind or parts[0] == ".trash":
        return None
    return "/".join(parts[3:])


def read_mlflow_metrics(files: Mapping[str, bytes]) -> dict[str, list[dict]]:
    """Metrics from the files of an MLflow file store.

    Parameters: files: store-relative path -> content; other files are ignored.
    Returns: key -> [{"value", "step", "timestamp"}, ...], ordered by step, then time.
    Raises: ValueError for a metrics line that is not "timestamp value step".
    """
    metrics: dict[str, list[dict]] = {}
    for path in sorted(files):
        key = _split(path, "metrics")
        if key is None:
            continue
        points = metrics.setdefault(key, [])
        for line in files[path].decode("utf-8").splitlines():
            if not line.strip():
                continue
            fields = line.split()
            if len(fields) not in (2, 3):  # files of old MLflow versions have no step
                raise ValueError(f"{path}: unreadable metric line {line!r}")
            step = int(fields[2]) if len(fields) == 3 else 0
            points.append({"value": float(fields[1]), "step": step,
                           "timestamp": int(fields[0])})
    for points in metrics.values():
        points.sort(key=lambda p: (p["step"], p["timestamp"]))
    return metrics


def read_mlflow_params(files: Mapping[str, bytes]) -> dict[str, str]:
    """Parameters from the files of an MLflow file store.

    Parameters: files: store-relative path -> content.
    Returns: key -> value (the last run in path order wins when two runs share a key).
    """
    return {key: files[path].decode("utf-8")
            for path in sorted(files) if (key := _split(path, "params")) is not None}


def store_files(blobs: BlobStore, prefix: str) -> dict[str, bytes]:
    """The metric and param files of a store uploaded under prefix (runs/<id>/mlruns),
    keyed relative to it; artifacts and metadata are not read."""
    base = prefix.strip("/") + "/"
    wanted = {}
    for path in blobs.list(prefix):
        rel = path[len(base):] if path.startswith(base) else path
        if _split(rel, "metrics") is not None or _split(rel, "params") is not None:
            wanted[rel] = blobs.get(path)
    return wanted


def read_run_metrics(blobs: BlobStore,
                     run_id: str) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Metrics and params a collected run left in runs/<run_id>/mlruns.

    Returns: (metrics as read_mlflow_metrics gives them, params).
    """
    files = store_files(blobs, f"runs/{run_id}/mlruns")
    return read_mlflow_metrics(files), read_mlflow_params(files)
