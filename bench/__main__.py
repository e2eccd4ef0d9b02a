"""`python -m bench [--quick] [--areas a,b] [--no-peers] [--setup]`: run the suite,
write bench/results.json and regenerate the tables of BENCHMARKS.md.

The quick run (the tests run it) measures a little of everything in seconds and writes
where --out/--markdown say (a temporary folder by default), never over the real
figures."""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from bench import goals, report
from bench.peers import PEERS
from bench.plan import QUICK, Plan
from bench.stats import machine

HOST_AREAS = ("registration", "scoring", "memory", "jobs", "coldstart")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    plan = QUICK if args.quick else Plan()
    if args.areas:
        plan = dataclasses.replace(plan, areas=tuple(args.areas.split(",")))
    if args.setup and not args.quick:
        for name in plan.peers:
            PEERS[name].setup()
    missing = [name for name in plan.peers if not PEERS[name].ready()]
    if args.no_peers:
        missing = list(plan.peers)
    elif missing:
        print(f"bench: no venv for {', '.join(missing)} (run `make bench` or pass "
              "--setup); skipped", file=sys.stderr)
    plan = dataclasses.replace(plan, peers=tuple(p for p in plan.peers if p not in missing))
    work = Path(tempfile.mkdtemp(prefix="mlcycle-bench-"))
    out = args.out or (work / "results.json" if args.quick else report.ROOT / "bench" /
                       "results.json")
    markdown = args.markdown or (work / "BENCHMARKS.md" if args.quick else
                                 report.ROOT / "BENCHMARKS.md")
    results = {"generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "quick": plan.quick, "machine": machine(), "plan": dataclasses.asdict(plan),
               "areas": {}}
    try:
        _run(plan, work, results["areas"])
    finally:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1))
        report.update(markdown, results)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"bench: wrote {out} and {markdown}")
    for goal in goals.evaluate(results):
        print(f"  {'met   ' if goal['met'] else 'MISSED'} {goal['goal']}: {goal['measured']} "
              f"(target {goal['target']})")
    failed = [name for name, area in results["areas"].items() if "error" in area]
    for name in failed:
        print(f"  FAILED {name}: {results['areas'][name]['error']}")
    return 1 if failed else 0


def _run(plan: Plan, work: Path, areas: dict) -> None:
    from bench import models as trainer

    needed = set()
    for area, kinds in (("scoring", plan.models), ("registration", plan.registration_models),
                        ("memory", ("sklearn",)),
                        ("payoff", plan.payoff_models), ("coldstart", plan.models[:1])):
        if area in plan.areas:
            needed.update(kinds)
    models = trainer.train(tuple(k for k in plan.trained if k in needed), work / "models")
    if "payoff" in plan.areas:
        from bench import payoff
        _area(areas, "payoff", lambda: payoff.run(plan, models, work))
    if "events" in plan.areas:
        from bench import events
        _area(areas, "events", lambda: events.run(plan))
    if "sweeps" in plan.areas:
        from bench import sweeps
        _area(areas, "sweeps", lambda: sweeps.run(plan))
    deployed: dict = {}
    if any(a in plan.areas for a in HOST_AREAS):
        _with_host(plan, work / "host", models, deployed, areas)
    if "coldstart" in plan.areas:
        from bench import coldstart
        _area(areas, "coldstart", lambda: coldstart.run(plan, work / "host", deployed))


def _with_host(plan: Plan, work: Path, models: dict, deployed: dict, areas: dict) -> None:
    from bench import jobs, lifecycle, registration, scoring, servers

    host = servers.start_mlcycle(work)
    try:
        api = lifecycle.client(host.url, host.key)
        if "registration" in plan.areas:
            _area(areas, "registration", lambda: registration.run(plan, api, models, deployed))
        if "scoring" in plan.areas or "coldstart" in plan.areas:
            kinds = plan.models if "scoring" in plan.areas else plan.models[:1]
            registration.ensure_deployed(api, models, kinds, deployed)
        if "scoring" in plan.areas:
            for kind in plan.models:  # the floor runs the very file the endpoint serves
                record = api.json("GET", f"/api/models/{models[kind].name}/versions/"
                                         f"{deployed[kind]['version']}")
                deployed[kind]["onnx"] = work / "data" / "blobs" / record["onnx"]["path"]
            _area(areas, "scoring", lambda: scoring.run(
                plan, host, {k: deployed[k] for k in plan.models}, work, models))
        if "memory" in plan.areas:
            from bench import memory
            _area(areas, "memory", lambda: memory.run(plan, api, host, models))
        if "jobs" in plan.areas:
            _area(areas, "jobs", lambda: jobs.run(plan, api, work))
    finally:
        host.stop()


def _area(areas: dict, name: str, measure) -> None:
    """Run one area; a failure is recorded in the results and the others still run."""
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        areas[name] = measure()
    except Exception as exc:  # noqa: BLE001 - reported in results.json and the exit code
        traceback.print_exc()
        areas[name] = {"error": f"{type(exc).__name__}: {exc}"}
    areas.setdefault("wall_s", {})[name] = round(time.perf_counter() - start, 1)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="a little of everything in seconds (the figures mean nothing)")
    parser.add_argument("--areas", help="comma-separated: payoff,events,scoring,memory,"
                                        "registration,jobs,coldstart,sweeps (default: all)")
    parser.add_argument("--no-peers", action="store_true",
                        help="skip the peers (MLflow, MLServer, BentoML)")
    parser.add_argument("--setup", action="store_true",
                        help="install each peer into its venv under .tools/ first")
    parser.add_argument("--out", type=Path, help="where results.json goes")
    parser.add_argument("--markdown", type=Path, help="the markdown file to regenerate")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    return parser


if __name__ == "__main__":
    sys.exit(main())
