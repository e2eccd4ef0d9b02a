"""The fault ledger: each reliability test records the faults it injected and what it
found lost afterwards, measured, before it asserts. `make reliability` points
MLCYCLE_FAULT_LEDGER at a file and turns the records into docs/reliability.md; in a
plain test run the ledger is off and `record` does nothing."""
from __future__ import annotations

import json
import os
from pathlib import Path

LEDGER_ENV = "MLCYCLE_FAULT_LEDGER"


def record(area: str, fault: str, *, injected: int = 1, lost: int = 0,
           checked: str = "") -> None:
    """One line per injection site: `area` groups faults in the report (crash,
    duplicates, poison, bad input, access); `fault` says what was done, e.g. "SIGKILL of
    the host while training runs"; `lost` counts what the test found missing, duplicated
    or leaked afterwards (runs, versions, deployments, orphans, half-written files,
    leaked secrets, 5xx answers) and must be computed from observations, not written as
    0; `checked` names what was looked at."""
    path = os.environ.get(LEDGER_ENV)
    if not path:
        return
    line = {"area": area, "fault": fault, "injected": int(injected), "lost": int(lost),
            "checked": checked, "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]}
    with Path(path).open("a", encoding="utf-8") as out:  # O_APPEND: one write per line
        out.write(json.dumps(line) + "\n")
