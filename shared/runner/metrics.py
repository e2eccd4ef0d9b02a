"""Reading what MLflow's file store recorded, so metrics land in run history.

The store's layout (MLflow 2 and 3): <experiment>/<run>/metrics/<key> with one line per
logged value, and <experiment>/<run>/params/<key> holding the value. Keys may contain
"/", which the store turns into sub-folders. A metric line is one of the forms MLflow
has written over its versions:

    <timestamp ms> <value>                                  (before steps existed)
    <timestamp ms> <value> <step>
    <timestamp ms> <value> <step> <dataset name> <dataset digest>   (MLflow 3, autolog)

MLflow 3 also keeps a copy of each metric under <experiment>/models/<model id>/metrics/
for the logged model it belongs to; those repeat the run's points and are not read.
Metrics of all runs in the store are merged by key (a job is one run in run history).
A line that fits no form is skipped with a warning: metrics describe a run, they never
decide whether it succeeded.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.ports import BlobStore

_FIELD_COUNTS = (2, 3, 5)
MAX_WARNINGS = 5  # per store: a file of garbage must not flood the run record


@dataclass(frozen=True)
class StoreReading:
    """What a run's MLflow store holds: metrics (key -> points ordered by step, then
    time), params (key -> value), the tags the run's code set (key -> value; MLflow's
    own `mlflow.*` tags left out) and one warning per thing that could not be read."""

    metrics: dict[str, list[dict]]
    params: dict[str, str]
    warnings: tuple[str, ...] = ()
    tags: dict[str, str] | None = None


def _split(path: str, kind: str) -> str | None:
    """The metric or param key of a store-relative path, or None if it is not one."""
    parts = path.strip("/").split("/")
    if len(parts) < 4 or parts[2] != kind or parts[0] == ".trash" or parts[1] == "models":
        return None
    return "/".join(parts[3:])


def parse_metric_line(line: str) -> dict | None:
    """One point of a metric file: {"value", "step", "timestamp"}, or None when the line
    is in none of the forms MLflow writes."""
    fields = line.split()
    if len(fields) not in _FIELD_COUNTS:
        return None
    try:
        return {"value": float(fields[1]), "step": int(fields[2]) if len(fields) > 2 else 0,
                "timestamp": int(fields[0])}
    except ValueError:
        return None


def read_mlflow_metrics(files: Mapping[str, bytes]) -> tuple[dict[str, list[dict]], list[str]]:
    """Metrics from the files of an MLflow file store.

    Parameters: files: store-relative path -> content; other files are ignored.
    Returns: (key -> [{"value", "step", "timestamp"}, ...] ordered by step, then time;
        a warning for each file holding lines that could not be read, which are skipped).
    """
    metrics: dict[str, list[dict]] = {}
    warnings: list[str] = []
    for path in sorted(files):
        key = _split(path, "metrics")
        if key is None:
            continue
        points = metrics.setdefault(key, [])
        bad = []
        for line in files[path].decode("utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            point = parse_metric_line(line)
            if point is None:
                bad.append(line)
            else:
                points.append(point)
        if bad:
            warnings.append(_unreadable(key, bad))
    for points in metrics.values():
        points.sort(key=lambda p: (p["step"], p["timestamp"]))
    return {k: v for k, v in metrics.items() if v}, warnings


def _unreadable(key: str, bad: list[str]) -> str:
    more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
    return (f"metric {key!r}: skipped {len(bad)} unreadable line(s) in the MLflow store "
            f"({bad[0][:80]!r}{more})")


def read_mlflow_params(files: Mapping[str, bytes]) -> dict[str, str]:
    """Parameters from the files of an MLflow file store.

    Parameters: files: store-relative path -> content.
    Returns: key -> value (the last run in path order wins when two runs share a key).
    """
    return {key: files[path].decode("utf-8", errors="replace")
            for path in sorted(files) if (key := _split(path, "params")) is not None}


def read_mlflow_tags(files: Mapping[str, bytes]) -> dict[str, str]:
    """The tags a run's code set (`mlflow.set_tag`, v1's `Run.tag`), from the files of an
    MLflow file store; MLflow's own `mlflow.*` tags (user, source, run name) are left out.

    Returns: key -> value (the last run in path order wins when two runs share a key).
    """
    return {key: files[path].decode("utf-8", errors="replace")
            for path in sorted(files)
            if (key := _split(path, "tags")) is not None and not key.startswith("mlflow.")}


def store_files(blobs: BlobStore, prefix: str) -> dict[str, bytes]:
    """The metric, param and tag files of a store uploaded under prefix (runs/<id>/mlruns),
    keyed relative to it; artifacts and metadata are not read."""
    base = prefix.strip("/") + "/"
    wanted = {}
    for path in blobs.list(prefix):
        rel = path[len(base):] if path.startswith(base) else path
        if any(_split(rel, kind) is not None for kind in ("metrics", "params", "tags")):
            wanted[rel] = blobs.get(path)
    return wanted


def read_run_store(blobs: BlobStore, run_id: str) -> StoreReading:
    """Metrics, params, tags and reading warnings of the store a collected run left in
    runs/<run_id>/mlruns. Never raises for what the store holds."""
    files = store_files(blobs, f"runs/{run_id}/mlruns")
    metrics, warnings = read_mlflow_metrics(files)
    if len(warnings) > MAX_WARNINGS:
        warnings = [*warnings[:MAX_WARNINGS],
                    f"{len(warnings) - MAX_WARNINGS} more metrics had unreadable lines"]
    return StoreReading(metrics, read_mlflow_params(files), tuple(warnings),
                        read_mlflow_tags(files))


def read_run_metrics(blobs: BlobStore,
                     run_id: str) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Metrics and params a collected run left in runs/<run_id>/mlruns.

    Returns: (metrics as read_mlflow_metrics gives them, params).
    """
    reading = read_run_store(blobs, run_id)
    return reading.metrics, reading.params
