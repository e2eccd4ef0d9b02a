"""Streaming a running job's log, and cancelling it."""
import time

import pytest

pytestmark = pytest.mark.e2e

SLOW = """$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: ./src
command: python slow.py
environment: azureml:AzureML-sklearn-1.0@latest
"""
SCRIPT = """import time
print("started", flush=True)
for i in range(600):
    print(f"tick {i}", flush=True)
    time.sleep(0.1)
"""


@pytest.fixture
def slow_job(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "slow.py").write_text(SCRIPT)
    (tmp_path / "job.yml").write_text(SLOW)
    return tmp_path / "job.yml"


def test_a_running_job_streams_its_log_and_cancel_stops_it(cli, host, slow_job):
    run = cli.json("job", "create", "-f", slow_job)
    client_log = b""
    deadline = time.monotonic() + 60
    while b"tick 3" not in client_log:  # the log grows while the job runs
        assert time.monotonic() < deadline
        client_log = host.container.compute.read_log(run["name"], 0, 0)
        time.sleep(0.2)
    assert cli.json("job", "show", "-n", run["name"])["status"] == "Running"
    cancelled = cli.json("job", "cancel", "-n", run["name"])
    assert cancelled["status"] in ("CancelRequested", "Canceled")
    code, out, _ = cli("job", "stream", "-n", run["name"])
    assert "started" in out and "Canceled" in out and code == 1
    assert host.container.compute.poll(run["name"]).reason == "canceled"
    assert host.container.compute.running() == []
