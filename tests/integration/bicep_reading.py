"""Reading infra/'s Bicep without a Bicep compiler (none installs from the package
registries this project may use; the Bicep CLI is a binary download): the declarations,
blocks, params, outputs and app settings the infra tests assert on, and what the
Functions app registers, to hold the templates against."""
from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
CHECKOV = Path(os.environ.get("CHECKOV", ROOT / ".tools/checkov-venv/bin/checkov"))

# DESIGN.md's queues, and `sweep` (hyperparameter sweeps), which DESIGN.md does not list yet.
DESIGN_QUEUES = {"data-register", "compute-scale", "job-launch", "job-complete",
                 "model-register", "onnx-convert", "deploy", "sweep"}
DESIGN_CONTAINERS = {"specs", "snapshots", "bundles", "uploads", "datasets", "runs", "models"}
MODULES = {"storage", "servicebus", "batch", "functionapp", "monitoring", "roles"}

# Built-in role definition ids (the same in every tenant), by the name roles.bicep uses,
# with the symbol of the resource each is assigned on.
BUILT_IN_ROLES = {
    "storageBlobDataContributor": ("ba92f5b4-2d11-453d-a403-e96b0029c9fe", "storage"),
    "storageTableDataContributor": ("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "storage"),
    "storageQueueDataContributor": ("974c5e8b-45b9-4653-ba55-5f855dd0fb88", "storage"),
    "serviceBusDataSender": ("69a216fc-b8fb-44d8-bc22-1f3c2cd27a39", "serviceBus"),
    "serviceBusDataReceiver": ("4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0", "serviceBus"),
    "batchDataContributor": ("6aaa78f1-f7de-44ca-8722-c64a23943cae", "batch"),
    "monitoringMetricsPublisher": ("3913510d-42f4-4e42-8a64-420c390055eb", "insights"),
}


# --- reading Bicep ------------------------------------------------------------------

def bicep(name: str) -> str:
    return (INFRA / name).read_text(encoding="utf-8")


def braced(text: str, start: int) -> str:
    """The {...} block that opens at or after `start`, braces balanced."""
    opening = text.index("{", start)
    depth = 0
    for i in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[opening:i + 1]
    raise AssertionError(f"unbalanced braces from offset {start}")


def resources(text: str, type_: str) -> list[str]:
    """The bodies of the resources of that type the file declares (not `existing` ones)."""
    pattern = rf"^resource\s+\w+\s+'{re.escape(type_)}@[\w-]+'\s*="
    found = [braced(text, m.end()) for m in re.finditer(pattern, text, re.M)]
    assert found, f"no {type_} declared"
    return found


def resource(text: str, type_: str) -> str:
    [body] = resources(text, type_)
    return body


def params(text: str) -> dict[str, tuple[str, bool]]:
    """name -> (type, has a default)."""
    return {m[1]: (m[2], bool(m[3])) for m in
            re.finditer(r"^param\s+(\w+)\s+(\w+)(\s*=)?", text, re.M)}


def outputs(text: str) -> set[str]:
    return set(re.findall(r"^output\s+(\w+)\s", text, re.M))


def top_level_keys(block: str) -> set[str]:
    keys, depth = set(), 0
    for line in block.splitlines():
        if depth == 1 and (m := re.match(r"\s*(\w+)\s*:", line)):
            keys.add(m[1])
        depth += line.count("{") - line.count("}")
    return keys


def modules(text: str) -> dict[str, tuple[str, str]]:
    """symbol -> (path, body) of every module declaration."""
    pattern = r"^module\s+(\w+)\s+'([^']+)'\s*=\s*(?:if\s*\([^)]*\)\s*)?"
    return {m[1]: (m[2], braced(text, m.end())) for m in re.finditer(pattern, text, re.M)}


def array_var(text: str, name: str) -> list[str]:
    body = re.search(rf"^var\s+{name}\s*=\s*\[(.*?)^\]", text, re.M | re.S)[1]
    items = [re.sub(r"//.*", "", line).strip() for line in body.splitlines()]
    return [item for item in items if item]


def string_var(text: str, name: str) -> str:
    return re.search(rf"^var\s+{name}\s*=\s*'([^']*)'", text, re.M)[1]


def string_items(text: str, name: str) -> set[str]:
    """An array var's items, with `var x = 'lit'` references resolved."""
    return {item.strip("'") if item.startswith("'") else string_var(text, item)
            for item in array_var(text, name)}


def app_settings() -> dict[str, str]:
    body = resource(bicep("modules/functionapp.bicep"), "Microsoft.Web/sites")
    return dict(re.findall(r"\{\s*name:\s*'([^']+)',\s*value:\s*([^}]+?)\s*\}", body))


# --- what the Functions app registers ------------------------------------------------

def registered(kind: str) -> list:
    """The FunctionApp's triggers of one kind, as the local host reads them."""
    import function_app
    from shared.localhost.triggers import read_triggers

    return [t for t in read_triggers(function_app.app) if t.kind == kind]


def queues_in_code() -> set[str]:
    return {t.queue for t in registered("serviceBusTrigger")}


def blob_trigger() -> tuple[str, str, str]:
    """(function name, container, connection) of the specs blob trigger."""
    [trigger] = registered("blobTrigger")
    source = (ROOT / "functions/spec_dropped.py").read_text(encoding="utf-8")
    assert 'source="EventGrid"' in source
    connection = re.search(r'blob_trigger\([^)]*connection="([^"]+)"', source)[1]
    return trigger.name, trigger.path.split("/")[0], connection


def service_bus_connection() -> str:
    from functions.queue import CONNECTION

    return CONNECTION
