"""BatchCompute with the real azure-batch SDK over an HTTP-level fake of the Batch REST
API: runs go through compute-scale, job-launch, the timer's reconciler and job-complete
as they do in Azure, and every request the SDK sends is checked against the API's
shapes by the fake (a request it refuses fails the test with Batch's reason)."""
from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import replace

import pytest

from shared.domain.status import RunStatus
from shared.ports import Record
from shared.runner.collected import refusal_warning
from shared.runner.plan import plan_from_json
from tests.fakes.batch_world import BatchWorld
from tests.fakes.sas_blobs import blob_path, permission

PYTORCH = {"type": "pytorch", "process_count_per_instance": 2}


@pytest.fixture
def world(tmp_path) -> BatchWorld:
    world = BatchWorld(tmp_path)
    world.create_pool("gpu", most=2)
    return world


def until(done, step, tries: int = 10):
    """Take steps until done() holds; each step is a look that moves the fake's time."""
    for _ in range(tries):
        if done():
            return
        step()
    raise AssertionError(f"not done after {tries} steps")


def ended(world: BatchWorld, run_id: str, status: RunStatus) -> None:
    until(lambda: world.run(run_id)["status"] == status.value, world.reconcile)


def env_of(task: dict) -> dict:
    return {e["name"]: e["value"] for e in task["environmentSettings"]}


def exit_json(code: int, rank: int | None = None) -> str:
    return json.dumps({"exit_code": code, "failed_rank": rank, "reason": "",
                       "failed_at": "2024-05-01T12:05:00+00:00" if code else "",
                       "started_at": "2024-05-01T12:01:00+00:00",
                       "ended_at": "2024-05-01T12:05:00+00:00"})


class TestLaunchingAOneNodeJob:
    def test_the_pool_is_created_from_the_compute_and_the_job_runs_on_it(self, world):
        run_id = world.submit()
        world.launch()
        [pool] = world.batch.bodies("POST", "/pools")
        assert (pool["id"], pool["vmSize"], pool["targetDedicatedNodes"],
                pool["targetLowPriorityNodes"]) == ("gpu", "Standard_NC6s_v3", 1, 0)
        machine = pool["virtualMachineConfiguration"]
        assert machine["nodeAgentSKUId"] == "batch.node.ubuntu 22.04"
        assert machine["containerConfiguration"]["type"] == "dockerCompatible"
        assert pool["enableInterNodeCommunication"] is True  # max_instances 2
        assert pool["startTask"]["waitForSuccess"] is True
        [job] = world.batch.bodies("POST", "/jobs")
        assert (job["id"], job["poolInfo"]) == (run_id, {"poolId": "gpu"})
        assert world.run(run_id)["status"] == RunStatus.STARTING.value

    def test_its_task_is_a_plain_task_that_runs_the_node_bootstrap(self, world):
        run_id = world.submit(timeout_s=600)
        world.launch()
        task = world.task(run_id)
        assert "multiInstanceSettings" not in task
        assert "mlcycle.zip\" run --stage" in task["commandLine"]
        assert task["constraints"]["maxWallClockTime"] == "PT40M00S"  # 600 s + allowance
        assert task["constraints"]["maxTaskRetryCount"] == 0
        env = env_of(task)
        assert (env["MLCYCLE_RUN_ID"], env["AZUREML_RUN_ID"]) == (run_id, run_id)
        assert "MLCYCLE_UPLOAD_URL" not in env  # one node: the output files cover it

    def test_its_resource_files_are_readable_urls_of_what_the_node_stages(self, world):
        run_id = world.submit()
        world.launch()
        files = {f["filePath"]: f["httpUrl"] for f in world.task(run_id)["resourceFiles"]}
        assert set(files) == {"stage/mlcycle.zip", "stage/plan.json", "stage/snapshot.tar.gz"}
        assert all(permission(url) == "r" and world.blobs.exists(blob_path(url))
                   for url in files.values())
        plan = plan_from_json(world.blobs.get(blob_path(files["stage/plan.json"])))
        assert (plan.run_id, plan.interpreter) == (run_id, None)  # not the host's python
        package = zipfile.ZipFile(io.BytesIO(world.blobs.get(blob_path(files["stage/mlcycle.zip"]))))
        assert {"__main__.py", "shared/runner/node.py",
                "shared/adapters/batch_node.py"} <= set(package.namelist())

    def test_inputs_are_fetched_by_blob_or_by_container_prefix(self, world):
        run_id = world.submit(inputs={
            "table": world.local_input("iris.csv", b"a,b\n1,2\n"),
            "images": world.local_folder("images", {"a/1.png": b"1", "2.png": b"2"})})
        world.launch()
        files = {f["filePath"]: f for f in world.task(run_id)["resourceFiles"]}
        table = files["stage/inputs/table/iris.csv"]
        assert world.blobs.get(blob_path(table["httpUrl"])) == b"a,b\n1,2\n"
        images = files["stage/inputs/images"]
        assert permission(images["storageContainerUrl"]) == "rl"
        prefix = world.run(run_id)["inputs"]["images"]["blob"].split("/", 1)[1]
        assert images["blobPrefix"] == f"{prefix}/"

    def test_output_files_upload_the_run_folders_to_run_history_on_completion(self, world):
        run_id = world.submit()
        world.launch()
        outputs = world.task(run_id)["outputFiles"]
        assert {o["uploadOptions"]["uploadCondition"] for o in outputs} == {"taskcompletion"}
        assert {permission(o["destination"]["container"]["containerUrl"]) for o in outputs} \
            == {"cw"}
        destinations = {o["filePattern"]: o["destination"]["container"]["path"] for o in outputs}
        assert destinations["node/code/outputs/**/*"] == f"{run_id}/outputs"
        assert destinations["node/code/logs/**/*"] == f"{run_id}/logs"
        assert destinations["node/user_logs/**/*"] == f"{run_id}/user_logs"

    def test_a_job_in_an_image_runs_its_task_in_that_container(self, world):
        run_id = world.submit(image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04")
        world.launch()
        settings = world.task(run_id)["containerSettings"]
        assert settings["imageName"] == "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"
        assert "--network host" in settings["containerRunOptions"]

    def test_a_launch_delivered_twice_creates_one_job_and_one_task(self, world):
        run_id = world.submit()
        world.launch()
        plan = plan_from_json(world.blobs.get(f"runs/{run_id}/system_logs/launch_plan.json"))
        world.compute.submit(plan)
        assert len(world.batch.jobs) == 1 and len(world.batch.tasks) == 1
        assert len(world.batch.bodies("POST", f"/jobs/{run_id}/tasks")) == 2  # 409 the 2nd


    def test_a_run_id_batch_cannot_spell_gets_a_job_id_and_keeps_its_name(self, world):
        run_id = world.submit()
        world.launch()
        plan = plan_from_json(world.blobs.get(f"runs/{run_id}/system_logs/launch_plan.json"))
        world.compute.submit(replace(plan, run_id="exp.1"))
        [job] = [j for j in world.batch.jobs.values() if j["displayName"] == "exp.1"]
        assert re.fullmatch(r"exp-1-[0-9a-f]{12}", job["id"])
        assert world.compute.running() == sorted([run_id, "exp.1"])
        assert world.compute.poll("exp.1").state == "running"


class TestLaunchingATwoNodePyTorchJob:
    def test_it_is_one_multi_instance_task_over_two_nodes(self, world):
        run_id = world.submit(nodes=2, distribution=PYTORCH)
        world.launch()
        [pool] = world.batch.bodies("POST", "/pools")
        assert pool["targetDedicatedNodes"] == 2 and pool["enableInterNodeCommunication"]
        task = world.task(run_id)
        settings = task["multiInstanceSettings"]
        assert settings["numberOfInstances"] == 2
        assert "mlcycle.zip\" coordinate" in settings["coordinationCommandLine"]
        assert "--results" in task["commandLine"]  # the application command, on the primary
        assert {f["filePath"] for f in settings["commonResourceFiles"]} == {
            "stage/mlcycle.zip", "stage/plan.json", "stage/snapshot.tar.gz"}
        assert "resourceFiles" not in task  # every node needs them: all are common
        assert task["userIdentity"]["autoUser"] == {"scope": "pool", "elevationLevel": "admin"}

    def test_the_plan_gives_four_ranks_and_the_task_names_the_world(self, world):
        run_id = world.submit(nodes=2, distribution=PYTORCH)
        world.launch()
        plan = plan_from_json(world.blobs.get(f"runs/{run_id}/system_logs/launch_plan.json"))
        assert [[p.rank for p in n.processes] for n in plan.nodes] == [[0, 1], [2, 3]]
        env = env_of(world.task(run_id))
        assert (env["WORLD_SIZE"], env["LOCAL_WORLD_SIZE"]) == ("4", "2")
        assert "RANK" not in env and "MASTER_ADDR" not in env  # per process, per node
        assert permission(env["MLCYCLE_UPLOAD_URL"]) == "cw"  # the other node's logs

    def test_a_failure_on_the_second_node_is_the_runs_failure(self, world):
        run_id = world.submit(nodes=2, distribution=PYTORCH)
        world.launch()
        world.batch.ends(run_id, exit_code=0, files={"node/exit.json": exit_json(0)})
        # What batch_node uploads from the other node when its bootstrap has ended.
        world.blobs.put(f"runs/{run_id}/system_logs/node-1.exit.json",
                        exit_json(7, rank=3).encode())
        ended(world, run_id, RunStatus.FAILED)
        run = world.run(run_id)
        assert (run["exit_code"], run["failed_rank"]) == (7, 3)


class TestCompletion:
    def test_the_reconciler_sees_the_task_complete_and_the_run_ends_with_its_exit_code(
            self, world):
        run_id = world.submit()
        world.launch()
        world.batch.ends(run_id, exit_code=3)
        looks = []
        until(lambda: looks and looks[-1], lambda: looks.append(world.reconcile()))
        assert len(looks) == 3  # active while the pool grows, then running, then completed
        run = world.run(run_id)
        assert (looks[-1], run["status"], run["exit_code"]) == ([run_id], "Failed", 3)
        assert run["error"]["message"] == "the command exited with code 3"

    def test_a_run_ends_as_its_nodes_exit_json_says_with_its_outputs_and_logs(self, world):
        run_id = world.submit()
        world.launch()
        world.batch.ends(run_id, exit_code=0, files={
            "node/exit.json": exit_json(0), "node/code/outputs/model/model.pkl": b"weights",
            "node/user_logs/std_log_process_0.txt": "epoch 1\nepoch 2\n",
            "../stdout.txt": "mlcycle node\n"})
        ended(world, run_id, RunStatus.COMPLETED)
        run = world.run(run_id)
        assert (run["exit_code"], run["start_time"]) == (0, "2024-05-01T12:01:00+00:00")
        assert run["log_tail"] == "epoch 1\nepoch 2"
        assert world.blobs.get(f"runs/{run_id}/outputs/model/model.pkl") == b"weights"
        assert world.blobs.exists(f"runs/{run_id}/system_logs/stdout.txt")
        account = json.loads(world.blobs.get(f"runs/{run_id}/system_logs/batch_task.json"))
        assert account["task"]["state"] == "completed"

    def test_links_the_node_refused_to_let_out_are_warnings_on_the_run(self, world):
        run_id = world.submit()
        world.launch()
        body = {**json.loads(exit_json(0)), "refused_links": ["code/outputs/leak"]}
        world.batch.ends(run_id, exit_code=0, files={"node/exit.json": json.dumps(body)})
        ended(world, run_id, RunStatus.COMPLETED)
        assert [w for w in world.run(run_id)["warnings"] if "out of the run's folder" in w] == [
            refusal_warning("node-0/code/outputs/leak")]

    def test_a_task_that_never_ran_fails_the_run_as_lost(self, world):
        run_id = world.submit()
        world.launch()
        world.batch.ends(run_id, exit_code=None, failure={
            "category": "usererror", "code": "BlobDownloadMiscError",
            "message": "a resource file could not be downloaded"})
        ended(world, run_id, RunStatus.FAILED)
        assert "without reporting an exit code" in world.run(run_id)["error"]["message"]


class TestWatchingAndStopping:
    def test_logs_stream_from_the_node_while_it_runs_then_come_from_run_history(self, world):
        run_id = world.submit()
        world.launch()
        world.batch.ends(run_id, files={"node/user_logs/std_log_process_0.txt": "step 1\n"})
        until(lambda: world.compute.poll(run_id).started_at, lambda: None)
        assert world.compute.read_log(run_id, 0, 0) == b"step 1\n"
        assert world.compute.read_log(run_id, 0, 5) == b"1\n"
        assert world.compute.read_log(run_id, 0, 7) == b""
        assert world.compute.read_log(run_id, 1, 0) == b""  # no such rank (yet)
        world.compute.poll(run_id)  # completes: the output files are uploaded
        assert world.compute.read_log(run_id, 0, 5) == b"1\n"

    def test_running_lists_active_jobs_and_a_cancel_ends_the_task_and_the_job(self, world):
        run_id = world.submit()
        world.launch()
        assert world.compute.running() == [run_id]
        world.compute.cancel(run_id)
        world.compute.cancel(run_id)  # again: it has ended, which is fine
        assert world.batch.tasks[run_id]["state"] == "completed"
        assert world.batch.jobs[run_id]["state"] == "completed"
        assert world.compute.running() == []
        assert world.compute.poll(run_id).state == "exited"

    def test_the_reconciler_stops_the_task_of_a_run_that_has_already_ended(self, world):
        run_id = world.submit()
        world.launch()
        body = world.run(run_id)
        world.registry.put(Record("run", run_id, "", {**body, "status": "Canceled"}))
        world.reconcile()
        assert world.batch.bodies("POST", f"/jobs/{run_id}/tasks/main/terminate") == [None]

    def test_a_run_batch_never_heard_of_is_unknown_and_canceling_it_is_fine(self, world):
        assert world.compute.poll("never-submitted").state == "unknown"
        world.compute.cancel("never-submitted")
