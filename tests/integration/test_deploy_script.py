"""infra/deploy.sh: strict, well-formed, and running its three steps in order (create the
infrastructure, publish the code, subscribe the drop zone) against a stand-in `az`."""
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

from tests.integration.bicep_reading import INFRA

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
