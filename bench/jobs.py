"""Area 2, job overhead: from `job create` to `Completed` for a script that does nothing,
minus the time that script takes when run directly with the same interpreter; and from
`job create` to the first line of its output, as `job create --stream` would see it.

The run record keeps the time of every status transition, so each result also says
where the overhead went (queued, preparing, starting, running, finalizing)."""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from bench.stats import summary
from shared.cli.client import Client
from shared.cli.submit import submit_file

SCRIPT = 'print("hello from a job that does nothing", flush=True)\n'
SPEC = """$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: ./src
command: python noop.py
environment: azureml:AzureML-sklearn-1.0@latest
experiment_name: bench
"""
POLL_S = 0.01  # the waits are the measurement: poll finely
TERMINAL = ("Completed", "Failed", "Canceled")


def run(plan, api: Client, work: Path) -> dict:
    spec = _write(work / "job")
    direct = [_direct(spec.parent / "src" / "noop.py") for _ in range(plan.job_repeats)]
    # The host's first job pays for importing azure-ai-ml (spec validation) once; the
    # goal is about a running host, so that one is reported apart.
    first = _job(api, spec)
    runs = [_job(api, spec) for _ in range(plan.job_repeats)]
    direct_s = summary(direct)["median"]
    return {"first_job_completed_s": first["completed_s"], "direct_s": summary(direct),
            "create_to_completed_s": summary(r["completed_s"] for r in runs),
            "overhead_s": summary(r["completed_s"] - direct_s for r in runs),
            "create_to_first_line_s": summary(r["first_line_s"] for r in runs),
            "phases_s": _phases(runs), "poll_s": POLL_S}


def _write(folder: Path) -> Path:
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "src" / "noop.py").write_text(SCRIPT)
    (folder / "job.yml").write_text(SPEC)
    return folder / "job.yml"


def _direct(script: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True)
    return time.perf_counter() - start


def _job(api: Client, spec: Path) -> dict:
    start = time.perf_counter()
    run_id = submit_file(api, "/api/jobs", str(spec))["name"]
    first_line = None
    while True:
        if first_line is None:
            log = api.request("GET", f"/api/jobs/{run_id}/logs?rank=0&offset=0",
                              headers={"Accept": "text/plain"})
            if log.body:
                first_line = time.perf_counter() - start
        record = api.json("GET", f"/api/jobs/{run_id}")
        if record["status"] in TERMINAL:
            completed = time.perf_counter() - start
            break
        time.sleep(POLL_S)
    if record["status"] != "Completed":
        raise RuntimeError(f"the no-op job {run_id} ended {record['status']}: "
                           f"{record.get('error')}")
    return {"completed_s": completed, "first_line_s": first_line or completed,
            "transitions": _transitions(record)}


def _transitions(record: dict) -> list[tuple[str, float]]:
    """(status, epoch seconds) in order, from whichever field the record keeps them in."""
    history = record.get("status_history") or record.get("transitions") or []
    out = []
    for item in history:
        status = item.get("status") or item.get("state")
        when = item.get("time") or item.get("at") or item.get("timestamp")
        if status and when:
            out.append((status, datetime.fromisoformat(str(when).replace("Z", "+00:00"))
                        .timestamp()))
    return out


def _phases(runs: list[dict]) -> dict:
    """Median seconds spent in each status, over the runs."""
    spent: dict[str, list[float]] = {}
    for run_ in runs:
        steps = run_["transitions"]
        for (status, at), (_, after) in zip(steps, steps[1:]):
            spent.setdefault(status, []).append(after - at)
    return {status: summary(values) for status, values in spent.items()}
