"""The Azure infrastructure in infra/: checkov leaves no failed check unexplained, the
templates declare what DESIGN.md and the trigger bindings expect, and deploy.sh runs its
three steps in order against a stand-in `az`.

No Bicep compiler installs from the package registries this project may use (the Bicep
CLI is a binary download), so the templates are checked three ways: checkov parses every
file (a syntax error is a parsing error), the assertions below read the declarations, and
the modules' params and outputs are cross-checked the way `bicep build` would.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
CHECKOV = Path(os.environ.get("CHECKOV", ROOT / ".tools/checkov-venv/bin/checkov"))

DESIGN_QUEUES = {"data-register", "compute-scale", "job-launch", "job-complete",
                 "model-register", "onnx-convert", "deploy"}
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


# --- checkov --------------------------------------------------------------------------

def checkov_reports() -> list[dict]:
    if not CHECKOV.exists():
        pytest.skip(f"checkov is not installed at {CHECKOV}: python3 -m venv "
                    ".tools/checkov-venv && .tools/checkov-venv/bin/pip install checkov==3.3.30")
    run = subprocess.run([str(CHECKOV), "-d", "infra", "--config-file", "infra/.checkov.yaml",
                          "-o", "json"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode in (0, 1), run.stderr[-3000:]
    report = json.loads(run.stdout)
    reports = report if isinstance(report, list) else [report]
    return [r for r in reports if "results" in r]  # a bare summary means nothing was found


def test_checkov_leaves_no_failed_check_and_parses_every_template():
    reports = checkov_reports()
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
              for r in reports for c in r["results"]["failed_checks"]]
    assert not failed, "fix these or skip them with a reason in infra/.checkov.yaml:\n" + \
        "\n".join(failed)
    [templates] = [r for r in reports if r["check_type"] == "bicep"]
    assert templates["summary"]["parsing_errors"] == 0, templates["results"]["parsing_errors"]
    assert templates["summary"]["passed"] >= 15
    scanned = {Path(c["file_path"]).name for c in templates["results"]["passed_checks"]}
    assert {"storage.bicep", "functionapp.bicep", "batch.bicep"} <= scanned


def test_every_check_checkov_skips_says_why():
    lines = (INFRA / ".checkov.yaml").read_text(encoding="utf-8").splitlines()
    skip_list = lines[lines.index("skip-check:") + 1:]
    reason: list[str] = []
    skipped = []
    for line in skip_list:
        if line.strip().startswith("#"):
            reason.append(line)
        elif m := re.match(r"\s*-\s*(CKV\w+)", line):
            assert reason, f"{m[1]} is skipped without a reason comment above it"
            skipped.append(m[1])
            reason = []
    assert skipped and len(skipped) == len(set(skipped))


# --- Service Bus ----------------------------------------------------------------------

def test_there_is_one_queue_per_handler_of_the_design_and_of_the_code():
    declared = set(array_var(bicep("main.bicep"), "queues"))
    assert {q.strip("'") for q in declared} == DESIGN_QUEUES == queues_in_code()


def test_every_queue_dead_letters_after_max_deliveries_and_drops_duplicates():
    text = bicep("modules/servicebus.bicep")
    [queue] = [q for q in resources(text, "Microsoft.ServiceBus/namespaces/queues")
               if "name: queue" in q]  # the handler queues; the parking queue is apart
    assert "[for queue in queues:" in text
    for setting in ("maxDeliveryCount: maxDeliveryCount", "lockDuration: lockDuration",
                    "deadLetteringOnMessageExpiration: true",
                    "requiresDuplicateDetection: true",
                    "duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow"):
        assert setting in queue, setting
    main = bicep("main.bicep")
    assert re.search(r"^param maxDeliveryCount int = 5$", main, re.M)
    assert re.search(r"^param lockDuration string = 'PT5M'$", main, re.M)  # Service Bus' max


def test_the_namespace_allows_duplicate_detection_and_identity_only():
    namespace = resource(bicep("modules/servicebus.bicep"), "Microsoft.ServiceBus/namespaces")
    assert "name: 'Standard'" in namespace  # Basic has no duplicate detection
    assert "disableLocalAuth: true" in namespace
    assert "minimumTlsVersion: '1.2'" in namespace


# --- storage --------------------------------------------------------------------------

def test_the_storage_account_is_private_https_only_and_tls12():
    account = resource(bicep("modules/storage.bicep"), "Microsoft.Storage/storageAccounts")
    for setting in ("allowBlobPublicAccess: false", "minimumTlsVersion: 'TLS1_2'",
                    "supportsHttpsTrafficOnly: true", "allowSharedKeyAccess: false"):
        assert setting in account, setting


def test_the_containers_and_the_registry_table_exist():
    main = bicep("main.bicep")
    containers = string_items(main, "containers")
    assert DESIGN_CONTAINERS <= containers
    _, trigger_container, _ = blob_trigger()
    assert trigger_container in containers
    storage = bicep("modules/storage.bicep")
    container = resource(storage, "Microsoft.Storage/storageAccounts/blobServices/containers")
    assert "publicAccess: 'None'" in container
    assert "name: registryTableName" in resource(
        storage, "Microsoft.Storage/storageAccounts/tableServices/tables")
    assert re.search(r"^param registryTableName string = 'registry'$", main, re.M)


# --- the Functions app ----------------------------------------------------------------

def test_the_function_app_runs_python_311_with_a_system_assigned_identity():
    site = resource(bicep("modules/functionapp.bicep"), "Microsoft.Web/sites")
    assert re.search(r"identity:\s*\{\s*type:\s*'SystemAssigned'\s*\}", site)
    assert re.search(r"runtime:\s*\{\s*name:\s*'python'\s*version:\s*'3\.11'\s*\}", site)
    assert "httpsOnly: true" in site
    assert "type: 'SystemAssignedIdentity'" in site  # the deployment package, too


def test_the_triggers_connections_resolve_to_identity_based_settings():
    settings = app_settings()
    _, _, storage_connection = blob_trigger()
    assert f"{storage_connection}__accountName" in settings
    assert f"{service_bus_connection()}__fullyQualifiedNamespace" in settings


def test_mlcycle_settings_point_at_the_deployed_resources():
    settings = app_settings()
    assert settings["MLCYCLE_MODE"] == "'azure'"
    assert settings["MLCYCLE_STORAGE_ACCOUNT"] == "storageAccountName"
    assert settings["MLCYCLE_SERVICEBUS_NAMESPACE"] == "serviceBusFullyQualifiedNamespace"
    assert settings["MLCYCLE_BATCH_ACCOUNT_URL"] == "batchAccountUrl"
    assert settings["MLCYCLE_REGISTRY_TABLE"] == "registryTableName"
    assert settings["MLCYCLE_MAX_DELIVERIES"] == "string(maxDeliveryCount)"  # as the queues
    docs = (ROOT / "docs/azure.md").read_text(encoding="utf-8")
    for name in settings:
        assert name in docs, f"docs/azure.md does not name the app setting {name}"


def test_no_app_setting_holds_a_secret():
    for name, value in app_settings().items():
        assert not re.search(r"KEY|SECRET|PASSWORD|SAS", name, re.I), name
        assert "listKeys" not in value and "AccountKey" not in value, name
    # The Application Insights connection string carries an instrumentation key that the
    # resource refuses on its own: telemetry goes with the app's identity.
    insights = resource(bicep("modules/monitoring.bicep"), "Microsoft.Insights/components")
    assert "DisableLocalAuth: true" in insights
    assert app_settings()["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "'Authorization=AAD'"


def test_no_key_is_read_but_the_blob_extension_key_for_the_event_grid_webhook():
    for path in INFRA.rglob("*.bicep"):
        text = path.read_text(encoding="utf-8")
        reads = re.findall(r"list\w*Keys\(\)[.\w]*", text, re.I)
        expected = ["listKeys().systemKeys.blobs_extension"] if path.name == "eventgrid.bicep" \
            else []
        assert reads == expected, (path.name, reads)
        # The Application Insights connection string is no credential here (local auth off).
        secretive = re.findall(r"^output\s+(\w*(?:key|secret|connection)\w*)", text, re.M | re.I)
        assert secretive == (["connectionString"] if path.name == "monitoring.bicep" else []), \
            path.name


# --- role assignments -----------------------------------------------------------------

def test_each_role_is_a_built_in_one_assigned_to_the_app_on_its_resource():
    roles = bicep("modules/roles.bicep")
    assignments = resources(roles, "Microsoft.Authorization/roleAssignments")
    for name, (role_id, scope) in BUILT_IN_ROLES.items():
        assert re.search(rf"^\s*{name}:\s*'{role_id}'$", roles, re.M), name
        [assignment] = [a for a in assignments
                        if f"roleIds.{name})" in a and "principalId: principalId" in a]
        assert f"scope: {scope}\n" in assignment, name
        assert "principalType: 'ServicePrincipal'" in assignment, name
        assert "subscriptionResourceId('Microsoft.Authorization/roleDefinitions'" in assignment
    granted = {m for a in assignments if "principalId: principalId" in a
               for m in re.findall(r"roleIds\.(\w+)\)", a)}
    assert granted == set(BUILT_IN_ROLES)  # nothing more than these
    assert "principalId: functionApp.outputs.principalId" in modules(bicep("main.bicep"))[
        "roles"][1]


# --- Event Grid -----------------------------------------------------------------------

def test_the_specs_container_wakes_the_blob_trigger_through_event_grid():
    events = bicep("modules/eventgrid.bicep")
    subscription = resource(events, "Microsoft.EventGrid/systemTopics/eventSubscriptions")
    assert ("/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}"
            "&code=${host.listKeys().systemKeys.blobs_extension}") in subscription
    assert "'Microsoft.Storage.BlobCreated'" in subscription
    assert "subjectBeginsWith: '/blobServices/default/containers/${containerName}/blobs/'" \
        in subscription
    assert "topicType: 'Microsoft.Storage.StorageAccounts'" in resource(
        events, "Microsoft.EventGrid/systemTopics")
    main = bicep("main.bicep")
    function, container, _ = blob_trigger()
    assert string_var(main, "specsFunctionName") == function
    assert string_var(main, "specsContainer") == container
    assert re.search(r"^module specsEvents 'modules/eventgrid\.bicep' = "
                     r"if \(subscribeSpecsEvents\)", main, re.M)
    assert re.search(r"^param subscribeSpecsEvents bool = false$", main, re.M)


# --- wiring, as bicep build would check it ----------------------------------------------

def test_main_is_split_into_the_named_modules():
    declared = {Path(path).stem for path, _ in modules(bicep("main.bicep")).values()}
    assert MODULES <= declared
    assert {p.stem for p in (INFRA / "modules").glob("*.bicep")} == declared


def test_every_module_gets_the_params_it_declares_and_has_the_outputs_main_reads():
    main = bicep("main.bicep")
    declared_modules = modules(main)
    for symbol, (path, body) in declared_modules.items():
        module = bicep(path)
        declared = params(module)
        passed = top_level_keys(braced(body, body.index("params:")))
        assert passed <= set(declared), (path, passed - set(declared))
        required = {name for name, (_, has_default) in declared.items() if not has_default}
        assert required <= passed, (path, required - passed)
    for symbol, output in re.findall(r"\b(\w+)\.outputs\.(\w+)", main):
        assert output in outputs(bicep(declared_modules[symbol][0])), f"{symbol}.outputs.{output}"


def test_the_parameters_file_sets_only_parameters_of_the_right_type():
    declared = params(bicep("main.bicep"))
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    types = {"string": str, "int": int, "bool": bool, "object": dict, "array": list}
    for name, entry in given.items():
        assert name in declared, name
        assert type(entry["value"]) is types[declared[name][0]], name


# --- deploy.sh ------------------------------------------------------------------------

def test_the_deploy_script_is_strict_and_well_formed():
    script = (INFRA / "deploy.sh").read_text(encoding="utf-8")
    assert "set -euo pipefail" in script
    assert os.access(INFRA / "deploy.sh", os.X_OK)
    subprocess.run(["bash", "-n", str(INFRA / "deploy.sh")], check=True)
    if shutil.which("shellcheck"):
        run = subprocess.run(["shellcheck", str(INFRA / "deploy.sh")], capture_output=True,
                             text=True)
        assert run.returncode == 0, run.stdout


FAKE_AZ = """#!{python}
import json, os, shutil, sys
args = sys.argv[1:]
log = os.environ["FAKE_AZ_LOG"]
with open(log, "a") as f:
    f.write(json.dumps(args) + "\\n")
query = args[args.index("--query") + 1] if "--query" in args else ""
outputs = {{"functionAppName": "mlcycle-func-test",
           "functionAppUrl": "https://mlcycle-func-test.azurewebsites.net",
           "storageAccountName": "mlcyclesttest"}}
if args[:2] == ["account", "show"]:
    print("00000000-0000-0000-0000-000000000001")
elif args[:2] == ["provider", "show"]:
    print("Registered")
elif args[:3] == ["ad", "signed-in-user", "show"]:
    print("00000000-0000-0000-0000-00000000abcd")
elif args[:3] == ["deployment", "group", "show"]:
    print(outputs[query.split(".")[2]])
elif args[:3] == ["functionapp", "keys", "list"]:
    calls = [json.loads(line) for line in open(log)]
    polls = sum(1 for c in calls if c[:3] == ["functionapp", "keys", "list"])
    print("blobs-extension-secret" if polls >= 2 else "")  # the host needs a moment
elif args[:4] == ["functionapp", "deployment", "source", "config-zip"]:
    calls = [json.loads(line) for line in open(log)]
    if sum(1 for c in calls if c[:2] == ["functionapp", "deployment"]) == 1:
        sys.exit("Forbidden: the app's identity has no role yet")  # as right after create
    shutil.copy(args[args.index("--src") + 1], os.environ["FAKE_AZ_ZIP"])
"""


def fake_azure(work: Path):
    """deploy.sh with `az` and `curl` stand-ins on PATH: az records its calls and answers
    like Azure. Returns a function that runs deploy.sh and returns (run, az calls)."""
    bin_dir = work / "bin"
    bin_dir.mkdir()
    (bin_dir / "az").write_text(FAKE_AZ.format(python=sys.executable))
    (bin_dir / "curl").write_text("#!/bin/sh\nexit 0\n")
    # Core Tools publishes the folder it runs in: record what is there.
    (bin_dir / "func").write_text('#!/bin/sh\necho "$@" > "$FAKE_FUNC_LOG"\n'
                                  'find . -type f | sort >> "$FAKE_FUNC_LOG"\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "FAKE_AZ_LOG": str(work / "az.log"), "FAKE_AZ_ZIP": str(work / "app.zip"),
           "FAKE_FUNC_LOG": str(work / "func.log"),
           "MLCYCLE_DEPLOY_POLL_S": "0", "MLCYCLE_DEPLOY_RETRY_S": "0"}
    env.pop("MLCYCLE_RESOURCE_GROUP", None)

    def deploy(*argv):
        run = subprocess.run(["bash", str(INFRA / "deploy.sh"), *argv], env=env, cwd=work,
                             capture_output=True, text=True, timeout=300)
        log = work / "az.log"
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return run, calls

    return deploy


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """One run of `infra/deploy.sh -g rg-test` against the stand-ins: (run, calls, zip)."""
    work = tmp_path_factory.mktemp("deploy")
    run, calls = fake_azure(work)("-g", "rg-test")
    assert run.returncode == 0, run.stderr
    return run, calls, work / "app.zip"


def test_deploy_creates_the_infra_publishes_the_code_then_subscribes_the_drop_zone(deployment):
    _, calls, _ = deployment
    creates = [i for i, c in enumerate(calls) if c[:3] == ["deployment", "group", "create"]]
    publishes = [i for i, c in enumerate(calls) if c[:2] == ["functionapp", "deployment"]]
    polls = [i for i, c in enumerate(calls) if c[:3] == ["functionapp", "keys", "list"]]
    assert len(creates) == 2 and len(publishes) == 2  # the first publish was refused
    assert creates[0] < publishes[0] < publishes[1] < polls[0] < polls[-1] < creates[1]
    first, second = (calls[i] for i in creates)
    for call in (first, second):
        assert call[call.index("-g") + 1] == "rg-test"
        assert call[call.index("-f") + 1] == "infra/main.bicep"
        assert "@infra/main.parameters.json" in call
        assert "specsUploaderPrincipalId=00000000-0000-0000-0000-00000000abcd" in call
    assert "subscribeSpecsEvents=false" in first and "subscribeSpecsEvents=true" in second
    assert "--build-remote" in calls[publishes[-1]]


def test_deploy_publishes_the_app_and_nothing_else(deployment):
    _, _, package = deployment
    names = set(zipfile.ZipFile(package).namelist())
    assert {"function_app.py", "host.json", "requirements.txt", "functions/queue.py",
            "functions/spec_dropped.py", "shared/bootstrap.py"} <= names
    assert not [n for n in names if n.split("/")[0] in {"tests", "infra", "docs", ".venv",
                                                        ".tools", ".git"}]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_deploy_prints_the_url_and_how_to_get_a_key_but_never_a_key(deployment, monkeypatch,
                                                                    tmp_path):
    run, _, _ = deployment
    assert "https://mlcycle-func-test.azurewebsites.net/api" in run.stdout
    assert ("az functionapp keys list -g rg-test -n mlcycle-func-test "
            "--query functionKeys.default -o tsv") in run.stdout
    assert "blobs-extension-secret" not in run.stdout + run.stderr
    # What it tells the user to export is what the CLI reads.
    endpoint = re.search(r"export MLCYCLE_ENDPOINT=(\S+)", run.stdout)[1]
    assert "export MLCYCLE_KEY=" in run.stdout
    from shared.cli.client import load_config

    monkeypatch.setenv("MLCYCLE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MLCYCLE_ENDPOINT", endpoint)
    monkeypatch.setenv("MLCYCLE_KEY", "a-function-key")
    config = load_config()
    assert config.endpoint == "https://mlcycle-func-test.azurewebsites.net"
    assert config.key == "a-function-key"


def test_deploy_can_publish_with_core_tools_and_take_the_callers_parameters(tmp_path):
    shutil.copy(INFRA / "main.parameters.json", tmp_path / "mine.json")
    run, calls = fake_azure(tmp_path)("-g", "rg-test", "--publish-with", "func",
                                      "-p", "mine.json")
    assert run.returncode == 0, run.stderr
    assert not [c for c in calls if c[:2] == ["functionapp", "deployment"]]
    creates = [c for c in calls if c[:3] == ["deployment", "group", "create"]]
    assert all(f"@{tmp_path / 'mine.json'}" in c for c in creates) and len(creates) == 2
    command, *files = (tmp_path / "func.log").read_text().splitlines()
    assert command == "azure functionapp publish mlcycle-func-test --python"
    assert {"./function_app.py", "./host.json", "./requirements.txt",
            "./functions/spec_dropped.py"} <= set(files)
    assert not [f for f in files if f.split("/")[1] in {"tests", "infra", ".venv"}]


def test_deploy_without_a_resource_group_explains_its_usage(tmp_path):
    run, calls = fake_azure(tmp_path)()
    assert run.returncode == 2
    assert "usage: infra/deploy.sh -g RESOURCE_GROUP" in run.stderr
    assert calls == []
