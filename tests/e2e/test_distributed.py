"""Distributed training through the CLI on a real local host: every node its own
bootstrap and folder on 127.0.0.1, every rank a real process. PyTorch DDP over 2 x 2
ranks, TensorFlow MultiWorkerMirroredStrategy and a parameter-server layout, an MPI
allreduce; a rank that fails fails the run at once, a cancel stops every rank, and no
process outlives its run."""
import json
import time
from pathlib import Path

import pytest
from tests.processes import processes_of, wait_for

JOBS = Path(__file__).parent / "distributed"
TERMINAL = ("Completed", "Failed", "Canceled")
pytestmark = pytest.mark.e2e



def finished(cli, name: str, within_s: float = 240) -> dict:
    def shown():
        run = cli.json("job", "show", "-n", name)
        return run["status"] in TERMINAL and run
    return wait_for(shown, within_s, f"run {name} ending")


def completed(cli, job: str, *sets: str) -> dict:
    run = cli.json("job", "create", "-f", JOBS / job, *(a for s in sets for a in ("--set", s)))
    shown = finished(cli, run["name"])
    assert shown["status"] == "Completed", shown.get("error") or shown.get("log_tail")
    return shown


def downloaded(cli, name: str, folder: Path) -> Path:
    code, _, err = cli("job", "download", "-n", name, "--all", "--download-path", folder)
    assert code == 0, err
    return folder


def reports(folder: Path, pattern: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((folder / "outputs").glob(pattern))]


def started_ranks(host, run_id: str) -> list[Path]:
    return sorted((host.container.compute.work_root / run_id).glob("node-*/code/outputs/started_*"))


def test_pytorch_ddp_trains_over_two_instances_of_two_processes(cli, host, tmp_path):
    run = completed(cli, "pytorch.yml")
    files = downloaded(cli, run["name"], tmp_path)

    ranks = reports(files, "rank_*.json")
    assert [(r["rank"], r["node_rank"], r["local_rank"]) for r in ranks] == [
        (0, 0, 0), (1, 0, 1), (2, 1, 0), (3, 1, 1)]
    assert {(r["world_size"], r["all_reduce"]) for r in ranks} == {(4, 10.0)}
    for other in ranks[1:]:  # DDP kept every replica in step
        assert other["weights"] == pytest.approx(ranks[0]["weights"])
    assert ranks[0]["losses"][-1] < ranks[0]["losses"][0]
    torch = pytest.importorskip("torch")
    model = torch.load(files / "outputs" / "model.pt")
    assert [w for t in model.values() for w in t.flatten().tolist()] == pytest.approx(
        ranks[0]["weights"])
    assert [p["value"] for p in run["metric_history"]["loss"]] == pytest.approx(
        ranks[0]["losses"])
    for rank in range(4):
        log = (files / "user_logs" / f"std_log_process_{rank}.txt").read_text()
        assert f"rank {rank}/4: all_reduce 10.0" in log
    assert processes_of(run["name"]) == []


def test_tensorflow_multi_worker_mirrored_strategy_trains_a_keras_model_on_two_workers(
        cli, host, tmp_path):
    run = completed(cli, "tensorflow.yml")
    workers = reports(downloaded(cli, run["name"], tmp_path), "worker_*.json")

    assert [w["task"] for w in workers] == [{"type": "worker", "index": 0},
                                            {"type": "worker", "index": 1}]
    assert {w["replicas"] for w in workers} == {2}
    first, second = workers
    assert first["losses"] == pytest.approx(second["losses"])  # reduced over both workers
    assert first["losses"][-1] < first["losses"][0]
    assert first["weights"] == pytest.approx(second["weights"])  # one model, mirrored
    assert processes_of(run["name"]) == []


def test_a_parameter_server_layout_gives_its_three_processes_one_consistent_tf_config(
        cli, host, tmp_path):
    run = completed(cli, "tensorflow_ps.yml")
    files = downloaded(cli, run["name"], tmp_path)
    configs = {p.stem.removeprefix("tf_config_"): json.loads(p.read_text())
               for p in (files / "outputs").glob("tf_config_*.json")}

    assert sorted(configs) == ["ps_0", "worker_0", "worker_1"]
    cluster = configs["worker_0"]["cluster"]
    assert all(c["cluster"] == cluster and c["environment"] == "cloud"
               for c in configs.values())
    assert (len(cluster["worker"]), len(cluster["ps"])) == (2, 1)
    addresses = cluster["worker"] + cluster["ps"]
    assert len(set(addresses)) == 3 and all(a.startswith("127.0.0.1:") for a in addresses)
    for name, config in configs.items():
        assert name == f"{config['task']['type']}_{config['task']['index']}"
    logs = [(files / "user_logs" / f"std_log_process_{r}.txt").read_text() for r in range(3)]
    assert [line.split(" listens")[0] for line in logs] == ["worker 0", "worker 1", "ps 0"]


def test_mpirun_starts_an_mpi4py_allreduce_over_two_instances_of_two_processes(
        cli, host, tmp_path):
    run = completed(cli, "mpi.yml")
    files = downloaded(cli, run["name"], tmp_path)

    ranks = reports(files, "mpi_rank_*.json")
    assert [(r["rank"], r["size"], r["allreduce"]) for r in ranks] == [
        (rank, 4, 10) for rank in range(4)]
    master = {r["master"] for r in ranks}
    assert len(master) == 1 and master.pop().startswith("127.0.0.1:")
    for rank in range(4):
        log = (files / "user_logs" / f"std_log_process_{rank}.txt").read_text()
        assert f"rank {rank} of 4: allreduce 10" in log


def test_a_rank_that_exits_1_fails_the_run_at_once_and_is_named(cli, host):
    run = cli.json("job", "create", "-f", JOBS / "ranks.yml", "--set", "inputs.fail_rank=3")
    wait_for(lambda: len(started_ranks(host, run["name"])) == 4, 120, "all four ranks starting")
    # Rank 3 runs on the second node; the ranks of the first one wait on nothing.
    (host.container.compute.work_root / run["name"] / "node-1/code/go").touch()
    told = time.monotonic()

    shown = finished(cli, run["name"], within_s=60)

    assert time.monotonic() - told < 60  # not the 110 s the other ranks would hold
    assert (shown["status"], shown["failed_rank"], shown["exit_code"]) == ("Failed", 3, 1)
    assert shown["error"]["message"] == "the command exited with code 1 (rank 3)"
    assert "rank 3 failing" in shown["log_tail"]
    assert wait_for(lambda: not processes_of(run["name"]), 10, "every rank gone")
    assert run["name"] not in host.container.compute.running()


def test_cancelling_a_distributed_run_stops_every_rank_on_every_node(cli, host):
    run = cli.json("job", "create", "-f", JOBS / "ranks.yml")
    wait_for(lambda: len(started_ranks(host, run["name"])) == 4, 120, "all four ranks starting")
    assert len(processes_of(run["name"])) >= 4

    cli.json("job", "cancel", "-n", run["name"])
    shown = finished(cli, run["name"], within_s=60)

    assert shown["status"] == "Canceled"
    assert wait_for(lambda: not processes_of(run["name"]), 10, "every rank gone")
    assert run["name"] not in host.container.compute.running()
