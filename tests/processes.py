"""Test helpers shared by the runner, compute and distributed tests: bounded waits and
finding the processes a run left behind."""
import time
from pathlib import Path


def processes_of(run_id: str) -> list[int]:
    """Live processes whose environment names the run: every rank, and whatever a rank
    started, inherits MLCYCLE_RUN_ID."""
    marker = f"MLCYCLE_RUN_ID={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue  # not a process, or gone while we looked
    return found


def wait_for(condition, within_s: float = 60.0, what: str = "condition"):
    """condition()'s first truthy value, polled until within_s runs out."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not true within {within_s}s")
