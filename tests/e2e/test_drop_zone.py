"""The drop zone: a spec file written to specs/ with its code beside it runs; a bad one
gets <name>.error.json with the reason and creates nothing."""
import json
import shutil
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
pytestmark = pytest.mark.e2e


def wait_for(predicate, timeout=120):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return result


@pytest.fixture
def drop(host):
    specs = host.container.blobs.local_path("specs")

    def place(folder_name: str, files: dict[str, str]) -> Path:
        folder = specs / folder_name
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        return folder
    return place


def runs(host):
    return {r.name for r in host.container.registry.list("run")}


def test_a_dropped_job_spec_runs_its_code_from_beside_it(host, drop):
    before = runs(host)
    drop("hello", {"src/hello.py": "print('hello from the drop zone')\n",
                   "job.yml": "$schema: https://azuremlschemas.azureedge.net/latest/"
                              "commandJob.schema.json\ncode: ./src\ncommand: python hello.py\n"
                              "environment: azureml:AzureML-sklearn-1.0@latest\n"})
    [run_id] = wait_for(lambda: runs(host) - before)
    run = wait_for(lambda: (b := host.container.registry.get("run", run_id).body)["status"]
                   in ("Completed", "Failed") and b)
    assert run["status"] == "Completed"
    log = host.container.blobs.get(f"runs/{run_id}/user_logs/std_log_process_0.txt")
    assert b"hello from the drop zone" in log


BAD_SPECS = {
    "yaml-error": ("command: [unclosed\n", "line"),
    "unknown-field": ("command: python x.py\nenvironment: azureml:e@latest\n"
                      "bogus_field: 1\n", "bogus_field"),
    "undefined-input": ("command: python x.py ${{inputs.missing}}\n"
                        "environment: azureml:e@latest\n", "missing"),
    "bad-distribution": ("command: python x.py\nenvironment: azureml:e@latest\n"
                         "distribution:\n  type: horovodx\n", "horovodx"),
    "code-outside": ("code: ../../elsewhere\ncommand: python x.py\n"
                     "environment: azureml:e@latest\n", "outside"),
}


@pytest.mark.parametrize("name", sorted(BAD_SPECS))
def test_a_bad_dropped_spec_gets_an_error_file_naming_the_problem(host, drop, name):
    text, expected = BAD_SPECS[name]
    header = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
    before = runs(host)
    folder = drop(f"bad-{name}", {"job.yml": header + text})
    error_file = folder / "job.error.json"
    report = json.loads(wait_for(lambda: error_file.exists() and error_file.read_text()))
    assert expected in report["error"]["message"]
    assert runs(host) == before
    assert "Traceback" not in report["error"]["message"]


def test_a_yaml_file_that_is_not_a_spec_is_left_alone(host, drop):
    folder = drop("with-conda", {"conda.yml": "name: env\ndependencies:\n  - python=3.11\n"})
    time.sleep(2)  # several scans of the watcher
    assert not (folder / "conda.error.json").exists()


def test_a_bad_spec_over_http_is_a_400_that_names_the_problem(cli, tmp_path):
    spec = tmp_path / "job.yml"
    spec.write_text("command: python x.py ${{inputs.nope}}\nenvironment: azureml:e@latest\n")
    code, out, err = cli("job", "create", "-f", spec)
    assert code == 1
    assert "nope" in err and "Traceback" not in err
    assert err.count("\n") == 1
