"""`mlcycle up` as a user runs it: a real process, a key file only its owner can read,
a server on 127.0.0.1 that the CLI then uses."""
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
MLCYCLE = str(Path(sys.executable).parent / "mlcycle")


def started_up(tmp_path, **popen) -> tuple[subprocess.Popen, dict, Path]:
    """`mlcycle up` on a fresh home and data root, once it has written its config.json."""
    env = {**os.environ, "MLCYCLE_HOME": str(tmp_path / "home")}
    env.pop("MLCYCLE_ENDPOINT", None)
    env.pop("MLCYCLE_KEY", None)
    proc = subprocess.Popen([MLCYCLE, "up", "--port", "0", "--data-root", str(tmp_path / "d")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen)
    config = tmp_path / "home" / "config.json"
    deadline = time.monotonic() + 60
    while not config.exists():
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return proc, env, config


def test_up_writes_a_private_config_and_serves_the_cli(tmp_path):
    proc, env, config = started_up(tmp_path, start_new_session=True)
    try:
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        settings = json.loads(config.read_text())
        assert settings["endpoint"].startswith("http://127.0.0.1:")
        # What MLClient.from_config reads, and what points azure-ai-ml here (docs/sdk.md).
        assert {"subscription_id", "resource_group", "workspace_name"} <= set(settings)
        sdk_env = tmp_path / "home" / "azureml.env"
        assert stat.S_IMODE(sdk_env.stat().st_mode) == 0o600
        port = settings["endpoint"].rsplit(":", 1)[1]
        assert (f"export ARM_CLOUD_METADATA_URL=https://127.0.0.1:{port}"
                "/api/arm/metadata/endpoints") in sdk_env.read_text()
        assert settings["key"] not in sdk_env.read_text()
        listed = subprocess.run([MLCYCLE, "job", "list"], env=env, capture_output=True,
                                text=True, timeout=60)
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == []
        assert settings["key"] not in listed.stdout + listed.stderr
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)


def test_up_refuses_a_non_loopback_address_without_the_flag(tmp_path):
    env = {**os.environ, "MLCYCLE_HOME": str(tmp_path / "home")}
    done = subprocess.run([MLCYCLE, "up", "--host", "0.0.0.0", "--port", "0",
                           "--data-root", str(tmp_path / "d")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert "loopback" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "home" / "config.json").exists()


def _ignoring_sigint() -> None:
    # What a shell's `cmd &` does to a background job: SIGINT arrives ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_up_started_with_sigint_ignored_still_stops_on_a_signal(tmp_path, stop):
    proc, _, _ = started_up(tmp_path, preexec_fn=_ignoring_sigint)
    try:
        proc.send_signal(stop)
        assert proc.wait(timeout=60) is not None  # it ended, rather than ignoring the signal
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
