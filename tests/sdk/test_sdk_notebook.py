"""docs/sdk.md's notebook, run as it is written there, against a real `mlcycle up`, in a
shell that sourced the azureml.env that `mlcycle up` wrote: the doc cannot drift from
what works."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
MLCYCLE = str(Path(sys.executable).parent / "mlcycle")


def notebook() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "sdk.md").read_text(), re.S)
    return next(b for b in blocks if "MLClient.from_config" in b and "jobs.stream" in b)


def test_the_documented_notebook_runs_unchanged_against_mlcycle_up(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "MLCYCLE_HOME": str(home)}
    for name in ("MLCYCLE_ENDPOINT", "MLCYCLE_KEY", "ARM_CLOUD_METADATA_URL",
                 "AZUREML_CURRENT_CLOUD", "REQUESTS_CA_BUNDLE"):
        env.pop(name, None)
    up = subprocess.Popen([MLCYCLE, "up", "--port", "0", "--data-root", str(tmp_path / "d")],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (home / "config.json").exists():  # written last, once all is ready
            assert up.poll() is None, up.stdout.read().decode()
            assert time.monotonic() < deadline, "mlcycle up wrote no config.json"
            time.sleep(0.2)
        script = tmp_path / "notebook.py"
        script.write_text(notebook())
        shell = (f"source {home / 'azureml.env'} && "
                 f"{sys.executable} {script} {ROOT / 'tests' / 'sdk' / 'src'}")
        done = subprocess.run(["bash", "-c", shell], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
    finally:
        os.killpg(up.pid, signal.SIGINT)
        up.wait(timeout=60)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Streaming user_logs/std_log_process_0.txt" in done.stdout
    assert "epoch 3 accuracy" in done.stdout
    assert re.search(r"status: (JobStatus\.)?completed", done.stdout, re.IGNORECASE)
    assert "registered: iris-sgd 1" in done.stdout
