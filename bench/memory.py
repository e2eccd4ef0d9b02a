"""Area 8, memory per deployment: the host's resident memory before and after N more
endpoints go live, each with a model of its own (so each holds its own onnxruntime
session, as N different models would), registered, converted and deployed through the
API and scored once."""
from __future__ import annotations

import dataclasses
import time

from bench import lifecycle
from bench.stats import rss_mib, summary


def run(plan, api, host, models: dict) -> dict:
    base = models["sklearn"]
    before = _settled_rss(host.process.pid)
    deploy_s = []
    for i in range(plan.memory_endpoints):
        model = dataclasses.replace(base, name=f"bench-memory-{i}")
        start = time.perf_counter()
        lifecycle.deploy(api, model, f"bench-memory-{i}")  # returns once it has scored
        deploy_s.append(time.perf_counter() - start)
    after = _settled_rss(host.process.pid)
    return {"endpoints": plan.memory_endpoints, "model": "sklearn",
            "rss_before_mib": before, "rss_after_mib": after,
            "per_deployment_mib": (after - before) / plan.memory_endpoints,
            "deploy_s": summary(deploy_s)}


def _settled_rss(pid: int) -> float:
    """RSS once the conversions' and deployments' work has wound down: the median of a
    few readings a little apart."""
    readings = []
    for _ in range(5):
        time.sleep(0.2)
        readings.append(rss_mib(pid) or 0.0)
    return summary(readings)["median"]
