"""The issue's goals, judged from results.json: each gives what was measured, the
target and whether it was met, so BENCHMARKS.md and the run's summary say the same."""
from __future__ import annotations

THROUGHPUT_X = 3.0  # mlcycle req/s ≥ 3 × MLflow's
LATENCY_X = 1.5  # mlcycle p50 ≤ 1.5 × (constant endpoint p50 + onnxruntime compute)
JOB_OVERHEAD_S = 1.0


def evaluate(results: dict) -> list[dict]:
    areas = results.get("areas", {})
    out = []
    scoring = areas.get("scoring", {})
    for c in scoring.get("comparisons", []):
        where = f"{c['model']}, batch {c['batch']}, {c['clients']} client(s)"
        if "rps_vs_mlflow" in c:
            out.append(_goal(f"throughput vs MLflow, {where}", c["rps_vs_mlflow"],
                             f"≥ {THROUGHPUT_X:g}×", lambda m: m >= THROUGHPUT_X, "×"))
        if c["clients"] == 1:  # latency is judged unloaded: one client, no queueing
            out.append(_goal(f"p50 vs floor, {where}", c["p50_vs_floor"],
                             f"≤ {LATENCY_X:g}×", lambda m: m <= LATENCY_X, "×"))
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
