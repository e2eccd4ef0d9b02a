"""getLogs of an online deployment: what mlcycle knows of it (its roll-outs, the copies
of live traffic mirrored to it) and, for a scoring script, what its server printed."""
from __future__ import annotations

from pathlib import Path

from shared.api import mirror
from shared.api.replies import BadRequest, Reply
from shared.arm.call import Call
from shared.arm.scope import Scope
from shared.domain.records import require
from shared.ports import Registry
from shared.serving.script_process import LOG

_LOG_BYTES = 256 * 1024  # the most of a script's log that getLogs reads


def get_logs(call: Call, ports: dict, *, scope: Scope, endpoint: str, name: str) -> Reply:
    """What mlcycle knows of the deployment: its roll-outs, the copies of live traffic
    mirrored to it (by this process), and for a scoring script the last `tail` lines of
    what its server printed. The same for either containerType."""
    registry = ports["registry"]
    dep = require(registry, "deployment", f"{endpoint}/{name}").body
    asked = call.json() if call.body.strip() else {}
    tail = asked.get("tail")
    if tail is not None and (not isinstance(tail, int) or isinstance(tail, bool) or tail < 0):
        raise BadRequest(f"tail must be a whole number of lines, not {tail!r}")
    lines = _rollout(dep) + _mirrored(registry, endpoint, name)
    if dep.get("code"):
        lines += _script_output(dep, ports.get("scripts"), tail)
    return Reply(200, {"content": "\n".join(lines) + "\n"})


def _rollout(dep: dict) -> list[str]:
    ref = dep.get("model_ref") or {}
    wanted = f"{dep['model']}:{ref['version']}" if ref.get("version") \
        else f"{dep['model']}@{ref.get('label') or 'latest'}"
    lines = [f"deployment {dep['endpoint']}/{dep['name']}: {dep.get('state')}",
             f"model: {wanted}" + (f", serving version {dep['model_version']}"
                                   if dep.get("model_version") else ", nothing served yet"),
             "serves: " + ("scoring script " + dep["code"]["scoring_script"]
                           if dep.get("code") else "the model's ONNX conversion (no-code)")]
    last = dep.get("last_rollout")
    if last:
        lines.append(f"last roll-out: version {last.get('version')} {last.get('state')}"
                     + (f": {last['error']}" if last.get("error") else ""))
    if dep.get("error"):
        lines.append(f"error: {error_message(dep['error'])}")
    lines += [f"warning: {w}" for w in dep.get("warnings") or ()]
    return lines


def _mirrored(registry: Registry, endpoint: str, name: str) -> list[str]:
    seen = mirror.counts(registry, endpoint, name)
    if not seen["sent"]:
        return []
    line = (f"mirrored requests (this process): {seen['sent']} sent, {seen['answered']} "
            f"answered, {seen['failed']} failed, {seen['dropped']} dropped")
    return [line] + ([f"last mirrored failure: {seen['last_error']}"]
                     if seen["last_error"] else [])


def _script_output(dep: dict, scripts, tail: int | None) -> list[str]:
    serving = dep.get("serving") or {}
    if scripts is None:
        return ["(scoring scripts run on the local host; its output is there)"]
    if not serving.get("id"):
        return ["(no scoring-script server serves this deployment yet)"]
    path = Path(scripts.root) / serving["id"] / LOG
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - _LOG_BYTES))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ["(the scoring script has printed nothing yet)"]
    output = text.splitlines()
    if tail is not None:
        output = output[-tail:] if tail else []
    return ["--- scoring script output ---", *output]


def error_message(error: object) -> str:
    return str(error.get("message") if isinstance(error, dict) else error)
