"""The Azure infrastructure in infra/: checkov leaves no failed check unexplained, and the
templates declare what DESIGN.md and the trigger bindings expect.

No Bicep compiler installs from the package registries this project may use (the Bicep
CLI is a binary download), so the templates are checked three ways: checkov parses every
file (a syntax error is a parsing error), the assertions below read the declarations, and
the modules' params and outputs are cross-checked the way `bicep build` would.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.integration.bicep_reading import (
    BUILT_IN_ROLES, CHECKOV, DESIGN_CONTAINERS, DESIGN_QUEUES, INFRA, MODULES, ROOT,
    app_settings, array_var, bicep, blob_trigger, braced, modules, outputs, params,
    queues_in_code, resource, resources, service_bus_connection, string_items,
    string_var, top_level_keys)

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
