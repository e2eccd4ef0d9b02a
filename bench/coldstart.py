"""Area 5, cold start and memory: the cost of importing function_app, the time from
spawning `mlcycle up` to its first answered request (a fresh host, and one that restarts
on a data root with a live endpoint, whose first score also loads the ONNX session),
and the resident memory and CPU of the host when idle. The RSS under scoring load is
sampled by the scoring area, which is the one that loads it."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench import lifecycle, servers
from bench.stats import rss_mib, summary

IMPORT = ("import time; start = time.perf_counter(); import function_app; "
          "print(time.perf_counter() - start)")


def run(plan, work: Path, deployed: dict) -> dict:
    imports = [_import_s() for _ in range(plan.cold_repeats)]
    fresh = [_fresh(work / f"fresh-{i}", plan) for i in range(plan.cold_repeats)]
    result = {"import_function_app_s": summary(imports),
              "up_to_health_s": summary(f["health_s"] for f in fresh),
              "idle_rss_mib": summary(f["rss_mib"] for f in fresh),
              "idle_cpu_percent": summary(f["cpu_percent"] for f in fresh)}
    if deployed:
        kind = next(iter(deployed))
        restarts = [_restart(work, deployed[kind]) for _ in range(plan.cold_repeats)]
        result["restart_to_first_score_s"] = summary(restarts)
        result["first_score_model"] = kind
    return result


def _import_s() -> float:
    out = subprocess.run([sys.executable, "-c", IMPORT], cwd=servers.ROOT, check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def _fresh(work: Path, plan) -> dict:
    host = servers.start_mlcycle(work)
    try:
        settle = 0.5 if plan.quick else 2.0  # let start-up work (timers run on start) end
        time.sleep(settle)
        before, start = _cpu_s(host.process.pid), time.perf_counter()
        time.sleep(settle)
        cpu = (_cpu_s(host.process.pid) - before) / (time.perf_counter() - start) * 100
        return {"health_s": host.started_s, "rss_mib": rss_mib(host.process.pid),
                "cpu_percent": cpu}
    finally:
        host.stop()


def _restart(work: Path, info: dict) -> float:
    """Spawn to the first answered score, on the data root the main host left."""
    host = servers.start_mlcycle(work)
    try:
        api = lifecycle.client(host.url, host.key)
        body = lifecycle.oip_body(info["input"], [[0.0] * 64])
        return lifecycle.serving(api, info["endpoint"], body, info["version"]) \
            - host.spawned_at
    finally:
        host.stop()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
