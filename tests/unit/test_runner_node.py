"""The node bootstrap, run for real on a hand-made node folder."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from shared.ports import LaunchPlan, NodeSpec, ProcessSpec
from shared.runner.plan import plan_to_json

SCRIPTS = Path(__file__).parent / "runner_scripts"


def alive(pid: int) -> bool:
    """Whether pid runs; a zombie nobody has reaped yet counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pids: list[int], within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def node_folder(tmp_path: Path, *commands: str, env: dict | None = None,
                timeout_s: float | None = 60.0, grace_s: float = 5.0,
                interpreter: str | None = None) -> Path:
    node_dir = tmp_path / "node-0"
    shutil.copytree(SCRIPTS, node_dir / "code")
    processes = tuple(ProcessSpec(rank=r, local_rank=r, command=c, env=env or {})
                      for r, c in enumerate(commands))
    plan = LaunchPlan(run_id="run-n", snapshot="", inputs={}, outputs=("model",),
                      nodes=(NodeSpec(0, processes),), timeout_s=timeout_s,
                      interpreter=interpreter)
    (node_dir / "plan.json").write_text(plan_to_json(plan))
    (node_dir / "node.json").write_text(json.dumps(
        {"index": 0, "bus_path": "", "kill_grace_s": grace_s}))
    return node_dir


def run_bootstrap(node_dir: Path) -> dict:
    subprocess.run([sys.executable, "-m", "shared.runner.node", str(node_dir)],
                   check=True, timeout=120)
    return json.loads((node_dir / "exit.json").read_text())


def test_a_succeeding_node_records_exit_code_zero_and_its_times(tmp_path):
    node_dir = node_folder(tmp_path, "echo hello from rank $RANK")

    ended = run_bootstrap(node_dir)

    assert ended["exit_code"] == 0 and ended["failed_rank"] is None and ended["reason"] == ""
    assert ended["started_at"] <= ended["ended_at"]
    assert json.loads((node_dir / "started.json").read_text())["started_at"] == ended["started_at"]
    assert (node_dir / "user_logs/std_log_process_0.txt").read_text() == "hello from rank\n"


def test_the_folders_a_job_writes_to_exist_before_it_starts(tmp_path):
    node_dir = node_folder(tmp_path, "test -d outputs && test -d logs && test -d \"$OUT\"",
                           env={"OUT": "${MLCYCLE_NODE_DIR}/named_outputs/model"})

    assert run_bootstrap(node_dir)["exit_code"] == 0


def test_node_dir_is_expanded_in_env_and_python_is_the_projects_interpreter(tmp_path):
    node_dir = node_folder(
        tmp_path, 'echo "$WHERE|$MLCYCLE_NODE_DIR|$(command -v python)" > outputs/env.txt',
        env={"WHERE": "${MLCYCLE_NODE_DIR}/inputs/x"})

    run_bootstrap(node_dir)

    where, node, python = (node_dir / "code/outputs/env.txt").read_text().strip().split("|")
    assert where == f"{node_dir.resolve()}/inputs/x"
    assert node == str(node_dir.resolve())
    assert python == os.path.join(os.path.dirname(sys.executable), "python")


def test_python_is_the_plans_interpreter_when_it_names_one(tmp_path):
    env_bin = tmp_path / "envs/abc/bin"
    env_bin.mkdir(parents=True)
    (env_bin / "python").symlink_to(sys.executable)
    node_dir = node_folder(tmp_path, "command -v python > outputs/python.txt",
                           interpreter=str(env_bin / "python"))

    run_bootstrap(node_dir)

    assert (node_dir / "code/outputs/python.txt").read_text().strip() == str(env_bin / "python")


def test_when_one_process_fails_the_others_are_stopped(tmp_path):
    wait_for_pids = "for i in $(seq 600); do [ -f outputs/pids.txt ] && break; sleep 0.05; done"
    node_dir = node_folder(tmp_path, "python sleeper.py", f"{wait_for_pids}; exit 3")

    ended = run_bootstrap(node_dir)

    assert (ended["exit_code"], ended["failed_rank"], ended["reason"]) == (3, 1, "")
    pids = [int(p) for p in (node_dir / "code/outputs/pids.txt").read_text().split()]
    assert wait_gone(pids), "the sleeper or its child outlived the node"


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    node_dir = node_folder(tmp_path, "trap '' TERM; python sleeper.py",
                           timeout_s=1.0, grace_s=0.5)

    ended = run_bootstrap(node_dir)

    assert ended["reason"] == "timeout"
    assert ended["exit_code"] == 128 + 9  # SIGKILL, in the shell's convention
    pids = [int(p) for p in (node_dir / "code/outputs/pids.txt").read_text().split()]
    assert wait_gone(pids)


def test_a_child_in_a_process_group_of_its_own_is_stopped_too(tmp_path):
    # mpirun puts each rank in its own process group, inside mpirun's session.
    own_group = ("python -c \"import os, subprocess, time; "
                 "p = subprocess.Popen(['sleep', '60'], process_group=0); "
                 "open('outputs/pids.txt', 'w').write(f'{os.getpid()} {p.pid}'); "
                 "time.sleep(60)\"")
    node_dir = node_folder(tmp_path, own_group, timeout_s=1.0, grace_s=0.5)

    assert run_bootstrap(node_dir)["reason"] == "timeout"
    pids = [int(p) for p in (node_dir / "code/outputs/pids.txt").read_text().split()]
    assert wait_gone(pids)


def test_a_cancel_asked_before_the_bootstrap_listens_still_counts(tmp_path):
    node_dir = node_folder(tmp_path, "echo should not run")
    (node_dir / "cancel").touch()

    ended = run_bootstrap(node_dir)

    assert (ended["exit_code"], ended["reason"]) == (None, "canceled")
    assert not (node_dir / "user_logs/std_log_process_0.txt").exists()


def test_links_out_of_the_node_folder_are_removed_once_the_processes_end(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    node_dir = node_folder(
        tmp_path, f"ln -s {outside}/secret.txt outputs/leak && ln -s {outside} logs/away && "
        "echo mine > outputs/mine.txt && ln -s mine.txt outputs/alias.txt && "
        f"ln -s {outside}/secret.txt ../user_logs/leak.txt")

    ended = run_bootstrap(node_dir)

    assert ended["refused_links"] == ["code/logs/away", "code/outputs/leak",
                                      "user_logs/leak.txt"]
    outputs = node_dir / "code/outputs"
    assert sorted(p.name for p in outputs.iterdir()) == ["alias.txt", "mine.txt"]
    assert not (node_dir / "code/logs/away").exists()
    assert not (node_dir / "user_logs/leak.txt").exists()
    assert (outside / "secret.txt").read_text() == "secret\n"  # the links went, not the file
