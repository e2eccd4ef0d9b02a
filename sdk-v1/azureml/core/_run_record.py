"""What v1's Run reads out of a run's record in mlcycle's API: its metrics, and its
script's arguments."""
from __future__ import annotations

import shlex


def metrics_of(record: dict, name: str | None = None) -> dict:
    """What a run's record says it logged, as v1's get_metrics gives it: a metric logged
    once is its value, one logged more than once the list of its values in step order."""
    history = record.get("metric_history") or {
        k: [{"value": v}] for k, v in (record.get("metrics") or {}).items()}
    metrics = {k: [p["value"] for p in points] for k, points in history.items()}
    metrics = {k: v[0] if len(v) == 1 else v for k, v in metrics.items()}
    return {k: v for k, v in metrics.items() if name in (None, k)}


def script_arguments(command: str | None) -> list[str]:
    """The arguments of a v1 run's script, as v1's runDefinition lists them: what follows
    the script (`python train.py --C 0.5` -> ["--C", "0.5"]) in the run's command, after
    any package install that precedes it; a command without a .py script: its words
    after the first."""
    if not command:
        return []
    try:
        words = shlex.split(command.split(" && ")[-1])
    except ValueError:
        return []
    scripts = [i for i, w in enumerate(words) if w.endswith(".py")]
    return words[scripts[0] + 1:] if scripts else words[1:]
