"""The node bootstrap that unpacks a job's snapshot on a Batch node holds it to the
unpacking limits too, read from the task's environment: a snapshot bomb ends the task
with the reason in rank 0's log, and the node's disk never sees the bomb's content."""
import io
import tarfile
from pathlib import Path

from shared.adapters.batch_tasks import application_command
from tests.integration.test_batch_node import node, one_node_plan, run, stage

MiB = 1 << 20


def snapshot_bomb() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 64 * MiB
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    return raw.getvalue()


def test_a_node_given_a_snapshot_bomb_refuses_it_naming_the_limit(tmp_path):
    env = node(tmp_path, "n0", MLCYCLE_MAX_UNPACKED_BYTES=str(MiB))
    wd = Path(env["AZ_BATCH_TASK_WORKING_DIR"])
    stage(wd / "stage", one_node_plan("true"))
    (wd / "stage" / "snapshot.tar.gz").write_bytes(snapshot_bomb())

    assert run(application_command(1), env) == 1
    log = (wd / "node" / "user_logs" / "std_log_process_0.txt").read_text()
    assert "unpacks to more than 1 MiB" in log and "MLCYCLE_MAX_UNPACKED_BYTES" in log
    assert [p for p in (wd / "node").rglob("*") if p.is_file() and p.stat().st_size > MiB] == []
