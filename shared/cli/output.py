"""How results are printed: pretty JSON like `az ml -o json`, or a table."""
from __future__ import annotations

import json
import sys
from typing import Any, Sequence

FORMATS = ("json", "table", "yaml")


def emit(result: Any, fmt: str = "json", columns: Sequence[str] = ()) -> None:
    """Print `result` to stdout in `fmt`; `columns` picks the table's columns."""
    if fmt == "table":
        print(render_table(result, columns))
    elif fmt == "yaml":
        import yaml

        print(yaml.safe_dump(result, sort_keys=False, allow_unicode=True), end="")
    else:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    sys.stdout.flush()


def render_table(result: Any, columns: Sequence[str] = ()) -> str:
    """A plain text table of a list of records (or of one record)."""
    rows = result if isinstance(result, list) else [result]
    rows = [r for r in rows if isinstance(r, dict)]
    if not rows:
        return ""
    cols = list(columns) or [k for k, v in rows[0].items() if not isinstance(v, (dict, list))]
    cells = [[_cell(row.get(c)) for c in cols] for row in rows]
    header = [_title(c) for c in cols]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    lines = [header, ["-" * w for w in widths], *cells]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _title(column: str) -> str:
    # az's table headers: snake_case keys become "Title Case" words.
    return column.replace("_", " ").title().replace(" ", "")
