"""Driving a corpus of foreign spec files through the real CLI against a real host, and
telling how each ended: completed, refused (the CLI or the server said no, and why) or
failed (accepted, then did not succeed)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# The CLI command of each spec kind, by the `$schema` file name (lower case).
COMMANDS = {"commandjob": ["job", "create"], "sweepjob": ["job", "create"],
            "pipelinejob": ["job", "create"], "automljob": ["job", "create"],
            "data": ["data", "create"], "model": ["model", "create"],
            "environment": ["environment", "create"],
            "commandcomponent": ["component", "create"],
            "pipelinecomponent": ["component", "create"],
            "dataimport": ["data", "import"], "schedule": ["schedule", "create"],
            "managedonlineendpoint": ["online-endpoint", "create"],
            "managedonlinedeployment": ["online-deployment", "create"]}
TERMINAL = ("Completed", "Failed", "Canceled")
HANG_GUARD_S = 3600  # a run still going after this long is reported, not waited for


@dataclass(frozen=True)
class Entry:
    """One spec of the manifest: how to run it and the outcomes accepted for it.

    expect: the outcomes accepted ("completed", "refused", "failed"); more than one
        while another engineer's work moves a spec from refused to completed.
    reason: what a refusal must say (the unsupported feature it names); any one of them.
    cause: what a failure must show (the job's own reason, never mlcycle's); any one.
    log: what a completed job's log must hold, when the spec's point is its output.
    """

    spec: str
    expect: tuple[str, ...]
    run: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    reason: tuple[str, ...] = ()
    cause: tuple[str, ...] = ()
    log: str = ""
    why: str = ""
    depends: str = ""
    slow: bool = False

    @property
    def id(self) -> str:
        return self.spec.removeprefix("cli/")


@dataclass
class Outcome:
    entry: Entry
    status: str  # "completed" | "refused" | "failed"
    detail: str = ""
    warnings: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Why this outcome is not one the manifest accepts (empty when it is)."""
        e = self.entry
        if self.status not in e.expect:
            return [f"{e.spec}: {self.status}, expected {' or '.join(e.expect)}: {self.detail}"]
        if self.status == "refused" and not _names(self.detail, e.reason):
            return [f"{e.spec}: refused without naming {' or '.join(e.reason)}: {self.detail}"]
        if self.status == "failed" and not _names(self.detail, e.cause):
            return [f"{e.spec}: failed, but not for {' or '.join(e.cause)}: {self.detail}"]
        if self.status == "completed" and e.log and e.log not in self.detail:
            return [f"{e.spec}: completed, but its log lacks {e.log!r}: {self.detail}"]
        return []


def load_manifest(path: Path) -> tuple[dict, list[Entry]]:
    """(setup, entries) of a manifest.yml."""
    doc = yaml.safe_load(path.read_text())
    entries = []
    for item in doc["specs"]:
        expect = item["expect"]
        entries.append(Entry(
            spec=item["spec"], expect=tuple(expect if isinstance(expect, list) else [expect]),
            run=tuple(item.get("run") or ()), sets=tuple(item.get("set") or ()),
            reason=_strings(item.get("reason")), cause=_strings(item.get("cause")),
            log=item.get("log", ""), why=item.get("why", ""), depends=item.get("depends", ""),
            slow=bool(item.get("slow"))))
    return doc.get("setup") or {}, entries


def command_of(entry: Entry, root: Path) -> list[str]:
    """The CLI words that create what the spec describes."""
    if entry.run:
        return list(entry.run)
    doc = yaml.safe_load((root / entry.spec).read_text()) or {}
    schema = str(doc.get("$schema", "")).rstrip("/").rsplit("/", 1)[-1].lower()
    schema = schema.removesuffix(".json").removesuffix(".schema")
    return COMMANDS.get(schema, ["job", "create"])


class CorpusRun:
    """Submits entries through `cli` (tests.cli_runs.cli_for) and collects outcomes;
    jobs run side by side on the host's pools, everything else one at a time."""

    def __init__(self, cli, root: Path, values: dict[str, str]):
        self.cli, self.root, self.values = cli, root, values

    def start(self, entry: Entry) -> Outcome | str:
        """Submit one entry: its Outcome, or the run id of a job that was accepted."""
        words = command_of(entry, self.root)
        sets = [a for s in entry.sets for a in ("--set", s.format(**self.values))]
        code, out, err = self.cli(*words, "-f", self.root / entry.spec, *sets)
        warnings = [line.removeprefix("mlcycle: warning: ")
                    for line in err.splitlines() if line.startswith("mlcycle: warning: ")]
        record = _json(out)
        if code != 0:
            # A record printed means it was accepted and then failed (a registration, a
            # deployment); no record means the CLI or the server refused the spec.
            status = "failed" if isinstance(record, dict) else "refused"
            return Outcome(entry, status, _last_error(err), warnings)
        if words[:2] == ["job", "create"]:
            return record["name"]
        state = record.get("state", "") if isinstance(record, dict) else ""
        if state in ("Failed", "ConversionFailed"):
            return Outcome(entry, "failed", json.dumps(record.get("error")), warnings)
        return Outcome(entry, "completed", state, warnings)

    def finish(self, entry: Entry, run_id: str) -> Outcome:
        """Wait for an accepted job to end; its outcome, with its log's tail if it failed."""
        deadline = time.monotonic() + HANG_GUARD_S
        while True:
            run = self.cli.json("job", "show", "-n", run_id)
            if run["status"] in TERMINAL or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        warnings = list(run.get("warnings") or [])
        if run["status"] == "Completed":
            return Outcome(entry, "completed", run.get("log_tail", ""), warnings)
        error = (run.get("error") or {}).get("message", run["status"])
        return Outcome(entry, "failed", f"{error}\n{run.get('log_tail', '')}", warnings)


def tally(outcomes: list[Outcome]) -> str:
    """The lines printed after the corpus ran: counts, then one line per spec."""
    counts = {s: sum(o.status == s for o in outcomes) for s in ("completed", "refused", "failed")}
    lines = [f"azureml-examples corpus: {len(outcomes)} specs: {counts['completed']} completed, "
             f"{counts['refused']} refused with a reason, {counts['failed']} failed for a "
             "reason of their own"]
    for o in sorted(outcomes, key=lambda o: (o.status, o.entry.spec)):
        reason = o.entry.why or (o.detail.splitlines()[0][:110] if o.detail else "")
        lines.append(f"  {o.status:9} {o.entry.id}" + (f"  ({reason})" if o.status != "completed" else ""))
    return "\n".join(lines)


def _strings(value) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list) else ((value,) if value else ())


def _names(detail: str, wanted: tuple[str, ...]) -> bool:
    """Whether detail says one of wanted; a failure must always say why, so a failure
    with nothing wanted (an entry that does not expect one) never matches."""
    return any(w in detail for w in wanted) if wanted else False


def _json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def _last_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()
             and not line.startswith("mlcycle: warning: ")]
    return lines[-1] if lines else ""
