"""What a Batch task's command lines do on a node, run for real on this machine: the
command lines BatchCompute puts on the task, with the folders and AZ_BATCH_* variables
Batch gives them, the stage folder filled as Batch fills it from the resource files, and
mlcycle's code from the shipped zip. Two nodes are two folders on 127.0.0.1 and
127.0.0.2; the other node's uploads go to a local HTTP server standing in for Blob
Storage."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shared.adapters.batch_package import node_package
from shared.adapters.batch_tasks import application_command, coordination_command
from shared.runner.plan import build_plan, plan_to_json
from shared.runner.snapshot import snapshot_dir
from shared.runner.topology import free_ports

PATH = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


def stage(folder: Path, plan, inputs: dict[str, bytes] | None = None) -> None:
    """What Batch downloads for the task: the zip, the plan, the snapshot, the inputs."""
    code = folder.parent / "code-src"
    code.mkdir(exist_ok=True)
    (code / "train.py").write_text("print('training')\n")
    folder.mkdir(parents=True)
    (folder / "mlcycle.zip").write_bytes(node_package())
    (folder / "plan.json").write_text(plan_to_json(plan))
    (folder / "snapshot.tar.gz").write_bytes(snapshot_dir(code)[1])
    for rel, content in (inputs or {}).items():
        (folder / "inputs" / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / "inputs" / rel).write_bytes(content)


def node(root: Path, name: str, **env: str) -> dict:
    """The folders and variables Batch gives a task on one node."""
    task = root / name / "task"
    (task / "wd").mkdir(parents=True)
    (root / name / "shared").mkdir()
    return {"PATH": PATH, "HOME": str(root), "AZ_BATCH_TASK_DIR": str(task),
            "AZ_BATCH_TASK_WORKING_DIR": str(task / "wd"),
            "AZ_BATCH_TASK_SHARED_DIR": str(root / name / "shared"),
            "AZ_BATCH_NODE_SHARED_DIR": str(root / name / "node-shared"), **env}


def run(command_line: str, env: dict) -> int:
    """Batch runs a command line as an argument list, without a shell."""
    return subprocess.run(shlex.split(command_line), env=env, cwd=env.get(
        "AZ_BATCH_TASK_WORKING_DIR"), timeout=300).returncode


def one_node_plan(command: str, inputs: dict | None = None):
    return build_plan("run-1", command=command, snapshot="snapshots/x.tar.gz",
                      inputs=inputs or {}, outputs=[], experiment_name="batch")


class TestOneNode:
    def test_the_task_runs_the_command_in_the_staged_code_with_its_inputs(self, tmp_path):
        plan = one_node_plan(
            "cat ${{inputs.table}} > outputs/table.csv && ls ${{inputs.images}}/a "
            "> outputs/images.txt && echo rank $RANK of $WORLD_SIZE, path [$PYTHONPATH]",
            inputs={"table": {"kind": "file", "blob": "uploads/1/iris.csv"},
                    "images": {"kind": "folder", "blob": "datasets/images/v1"}})
        env = node(tmp_path, "n0")
        wd = Path(env["AZ_BATCH_TASK_WORKING_DIR"])
        stage(wd / "stage", plan, {"table/iris.csv": b"a,b\n",
                                   "images/images/v1/a/1.png": b"1"})
        assert run(application_command(1), env) == 0
        outputs = wd / "node" / "code" / "outputs"
        assert (outputs / "table.csv").read_bytes() == b"a,b\n"
        assert (outputs / "images.txt").read_text() == "1.png\n"
        log = (wd / "node" / "user_logs" / "std_log_process_0.txt").read_text()
        assert "rank 0 of 1, path []" in log  # mlcycle's zip is not on the user's path
        assert json.loads((wd / "node" / "exit.json").read_text())["exit_code"] == 0

    def test_the_tasks_exit_code_is_the_commands(self, tmp_path):
        env = node(tmp_path, "n0")
        stage(Path(env["AZ_BATCH_TASK_WORKING_DIR"]) / "stage", one_node_plan("exit 3"))
        assert run(application_command(1), env) == 3

    def test_a_conda_environment_runs_in_a_venv_built_on_the_node(self, tmp_path):
        plan = one_node_plan('python -c "import sys; print(sys.prefix)"')
        env = node(tmp_path, "n0", MLCYCLE_ENV_HASH="abc123", MLCYCLE_ENV_PIP="[]")
        wd = Path(env["AZ_BATCH_TASK_WORKING_DIR"])
        stage(wd / "stage", plan)
        assert run(application_command(1), env) == 0
        log = (wd / "node" / "user_logs" / "std_log_process_0.txt").read_text()
        assert log.strip() == str(tmp_path / "n0" / "node-shared" / "mlcycle-envs" / "abc123")

    def test_a_node_that_cannot_stage_says_why_in_rank_zeros_log(self, tmp_path):
        env = node(tmp_path, "n0")
        wd = Path(env["AZ_BATCH_TASK_WORKING_DIR"])
        stage(wd / "stage", one_node_plan("true"))
        (wd / "stage" / "snapshot.tar.gz").write_bytes(b"not a tarball")
        assert run(application_command(1), env) == 1
        log = (wd / "node" / "user_logs" / "std_log_process_0.txt").read_text()
        assert "the node could not start" in log
        assert json.loads((wd / "node" / "exit.json").read_text())["exit_code"] == 1


class Uploads(BaseHTTPRequestHandler):
    """Blob Storage's Put Blob, as far as a node's uploads need it."""

    received: dict[str, bytes] = {}

    def do_PUT(self) -> None:
        assert self.headers["x-ms-blob-type"] == "BlockBlob"
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received[self.path.split("?")[0]] = body
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args) -> None: ...


@pytest.fixture
def blob_endpoint():
    Uploads.received = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Uploads)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/runs?sv=2024-08-04&sp=cw&sig=fake"
    server.shutdown()


def wait_for(done, within_s: float = 120.0) -> None:
    """Wait for another node's background work; generous, as the machine is shared."""
    deadline = time.monotonic() + within_s
    while not done():
        assert time.monotonic() < deadline, "the other node did not finish"
        time.sleep(0.1)


class TestTwoNodes:
    def test_each_node_runs_its_ranks_and_the_other_node_uploads_its_own(
            self, tmp_path, blob_endpoint):
        plan = build_plan("run-2", command="echo rank=$RANK local=$LOCAL_RANK "
                          "node=$NODE_RANK world=$WORLD_SIZE master=$MASTER_ADDR:$MASTER_PORT",
                          snapshot="snapshots/x.tar.gz", inputs={}, outputs=[],
                          experiment_name="batch", distribution={"type": "pytorch", "process_count_per_instance": 2},
                          instance_count=2)
        port = free_ports(1)[0]
        batch = {"AZ_BATCH_HOST_LIST": "127.0.0.2,127.0.0.1",
                 "AZ_BATCH_MASTER_NODE": f"127.0.0.1:{port}", "MLCYCLE_UPLOAD_URL": blob_endpoint}
        master = node(tmp_path, "n0", **batch, AZ_BATCH_IS_CURRENT_NODE_MASTER="true",
                      MLCYCLE_NODE_ADDRESS="127.0.0.1")
        other = node(tmp_path, "n1", **batch, AZ_BATCH_IS_CURRENT_NODE_MASTER="false",
                     MLCYCLE_NODE_ADDRESS="127.0.0.2")
        for env in (master, other):
            stage(Path(env["AZ_BATCH_TASK_DIR"]) / "stage", plan)
        # Batch: the coordination command on every node, then the application command
        # on the primary once they have all returned.
        assert run(coordination_command(), master) == 0
        assert run(coordination_command(), other) == 0
        assert run(application_command(2), master) == 0

        logs = Path(master["AZ_BATCH_TASK_WORKING_DIR"]) / "node" / "user_logs"
        assert (logs / "std_log_process_1.txt").read_text() == (
            f"rank=1 local=1 node=0 world=4 master=127.0.0.1:{port}\n")
        assert not (Path(master["AZ_BATCH_TASK_SHARED_DIR"]) / "node").exists()  # moved
        wait_for(lambda: "/runs/run-2/system_logs/node-1.exit.json" in Uploads.received)
        assert Uploads.received["/runs/run-2/user_logs/std_log_process_3.txt"] == (
            f"rank=3 local=1 node=1 world=4 master=127.0.0.1:{port}\n".encode())
        exit_body = json.loads(Uploads.received["/runs/run-2/system_logs/node-1.exit.json"])
        assert exit_body["exit_code"] == 0
