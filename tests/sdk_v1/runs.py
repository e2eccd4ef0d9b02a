"""What the SDK v1 tests do with runs: wait as the guides do, read the files they wrote."""
import contextlib
import io
import json
import time
from pathlib import Path

SRC = Path(__file__).parent / "src"  # the guides' training scripts, on digits


def waited(run, raise_on_error: bool = True) -> str:
    """`run.wait_for_completion(show_output=True)`, returning what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run.wait_for_completion(show_output=True, raise_on_error=raise_on_error)
    return out.getvalue()


def output_reports(run, pattern_prefix: str, folder: Path) -> list[dict]:
    """The JSON files a run wrote as outputs/<prefix>*.json, in name order."""
    run.download_files(prefix=f"outputs/{pattern_prefix}", output_directory=str(folder))
    return [json.loads(p.read_text())
            for p in sorted((folder / "outputs").glob(f"{pattern_prefix}*.json"))]


def polled(condition, within_s: float, what: str, every_s: float = 0.5):
    """condition()'s first truthy value, asked every every_s seconds (each ask is a
    request to the host) until within_s runs out."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"{what}: not true within {within_s}s")
