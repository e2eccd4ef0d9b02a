"""Summaries of repeated measurements, and the machine they were taken on.

Every figure the suite reports is the median of repeated runs with its spread, so one
noisy run (another process waking up) cannot make or break a goal."""
from __future__ import annotations

import os
import platform
import statistics
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Callable, Iterable


def summary(values: Iterable[float]) -> dict:
    """{"median", "p25", "p75", "min", "max", "n"} of the values (None if there are none)."""
    data = sorted(float(v) for v in values)
    if not data:
        return {"median": None, "p25": None, "p75": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(data), "p25": _quantile(data, 0.25),
            "p75": _quantile(data, 0.75), "min": data[0], "max": data[-1], "n": len(data)}


def _quantile(data: list[float], q: float) -> float:
    # Linear interpolation between closest ranks; fine for the handful of repeats we take.
    pos = (len(data) - 1) * q
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def ratio(numerators: list[float], denominators: list[float]) -> dict:
    """Per-repeat ratios of two series measured side by side, summarised: pairing the
    repeats keeps a slow moment of the machine out of the comparison."""
    return summary(n / d for n, d in zip(numerators, denominators) if d)


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def per_call(call: Callable[[], object], *, min_s: float, max_calls: int = 1_000_000) -> float:
    """Mean seconds per call over at least min_s of calls (tight loops in process)."""
    calls, start = 0, time.perf_counter()
    while True:
        call()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_s or calls >= max_calls:
            return elapsed / calls


def machine() -> dict:
    """What the figures were measured on: CPU, cores, memory, Python and versions."""
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "ram_gib": _ram_gib(),
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "load_avg_at_start": _load(),
            "versions": {p: _version(p) for p in (
                "onnxruntime", "scikit-learn", "torch", "tensorflow-cpu", "numpy",
                "azure-functions", "mlflow-skinny")}}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        return round(kib / 2**20, 1)
    except (OSError, StopIteration):
        return None


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return ""


def rss_mib(pid: int) -> float | None:
    """Resident memory of a process in MiB, from /proc (Linux)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
