"""The issues' goals, judged from results.json: each gives what was measured, the
target and whether it was met, so BENCHMARKS.md and the run's summary say the same."""
from __future__ import annotations

PEER_X = 2.0  # mlcycle req/s ≥ 2 × the best peer's (MLflow, MLServer, BentoML)
LATENCY_X = 1.5  # mlcycle p50 ≤ 1.5 × (constant endpoint p50 + onnxruntime compute)
CONSTANT_X = 0.8  # at 16 clients, batch 1: mlcycle req/s ≥ 0.8 × the constant endpoint's
JOB_OVERHEAD_S = 1.0


def evaluate(results: dict) -> list[dict]:
    areas = results.get("areas", {})
    out = []
    scoring = areas.get("scoring", {})
    for c in scoring.get("comparisons", []):
        where = f"{c['model']}, batch {c['batch']}, {c['clients']} client(s)"
        if "rps_vs_best_peer" in c:
            out.append(_goal(f"throughput vs the best peer ({c['best_peer']}), {where}",
                             c["rps_vs_best_peer"], f"≥ {PEER_X:g}×",
                             lambda m: m >= PEER_X, "×"))
        if c["clients"] == 1:  # latency is judged unloaded: one client, no queueing
            out.append(_goal(f"p50 vs floor, {where}", c["p50_vs_floor"],
                             f"≤ {LATENCY_X:g}×", lambda m: m <= LATENCY_X, "×"))
        # The serving path against the bare stack: where the model's own work is least
        # (one row), as the issue measured it.
        if c["clients"] == 16 and c["batch"] == 1 and "rps_vs_constant" in c:
            out.append(_goal(f"throughput vs the constant endpoint, {where}",
                             c["rps_vs_constant"], f"≥ {CONSTANT_X:g}×",
                             lambda m: m >= CONSTANT_X, "×"))
    jobs = areas.get("jobs", {})
    if "overhead_s" in jobs:
        out.append(_goal("job overhead on a running host", jobs["overhead_s"],
                         f"< {JOB_OVERHEAD_S:g} s", lambda m: m < JOB_OVERHEAD_S, " s"))
    for config in areas.get("sweeps", {}).get("configs", {}).values():
        out.append(_goal(f"sweep regret, random ÷ bayesian ({config['concurrent']} trial(s) "
                         "at once)", config["random_over_bayesian"], "> 1×",
                         lambda m: m > 1, "×"))
    return out


def _goal(name: str, s: dict, target: str, ok, unit: str) -> dict:
    m = s.get("median")
    measured = "–" if m is None else (
        f"{m:.2f}{unit} ({s['p25']:.2f}–{s['p75']:.2f})" if s.get("n", 0) > 1
        else f"{m:.2f}{unit}")
    return {"goal": name, "measured": measured, "target": target,
            "met": m is not None and bool(ok(m)), "median": m}
