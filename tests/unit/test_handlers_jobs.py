"""compute-scale, job-launch and job-complete: pools admit in order, and a duplicate of
any message leaves the same state as one."""
import time
from pathlib import Path

import pytest

from shared.domain.errors import InvalidSpec
from shared.domain.messages import CompleteJob, Envelope, LaunchJob, ScalePool
from shared.handlers.intake_assets import submit_compute
from shared.handlers.intake_jobs import submit_job
from shared.handlers.registry import handle
from shared.specs.types import ComputeSpec, InputSpec, JobSpec


def job_spec(code: Path, command="python -c \"print('hello')\"", compute="local",
             instance_count=1, **kw) -> JobSpec:
    return JobSpec(source=code / "job.yml", command=command, code=code, environment="x",
                   environment_image=None, environment_conda=None, compute=compute,
                   instance_count=instance_count, distribution=None, timeout_s=None,
                   inputs=kw.get("inputs", {}), outputs={}, name=kw.get("name"),
                   display_name=None, experiment_name="exp", description="", tags={})


def submit(container, spec, key):
    p = container.ports()
    return submit_job(spec, key=key, blobs=p["blobs"], registry=p["registry"], bus=p["bus"],
                      clock=p["clock"])


def drain(container, queue):
    """Handle what is on a queue now, as a worker would."""
    handled = []
    while (received := container.bus.receive(queue)) is not None:
        handle(queue, received.envelope.to_json(), container.ports())
        container.bus.complete(received)
        handled.append(received.envelope)
    return handled


def history(container, run_id):
    return [s["status"] for s in container.registry.get("run", run_id).body["status_history"]]


def wait_exited(container, run_id, timeout=60):
    deadline = time.monotonic() + timeout
    while container.compute.poll(run_id).state != "exited":
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.1)


class TestSubmitJob:
    def test_a_job_beyond_its_pool_is_refused_at_once(self, container, tmp_path):
        p = container.ports()
        submit_compute(ComputeSpec(tmp_path, "gpu", "amlcompute", None, 0, 2, 120, "dedicated"),
                       key="gpu", registry=p["registry"], bus=p["bus"], clock=p["clock"])
        with pytest.raises(InvalidSpec, match="exceeds compute 'gpu' max_instances 2"):
            submit(container, job_spec(tmp_path, compute="gpu", instance_count=3), "k")
        assert container.registry.list("run") == []

    def test_an_unregistered_data_asset_is_refused(self, container, tmp_path):
        from shared.specs.types import AssetRef

        spec = job_spec(tmp_path, inputs={"d": InputSpec("asset", asset=AssetRef("digits",
                                                                                 label="latest"))})
        with pytest.raises(InvalidSpec, match="digits@latest is not registered"):
            submit(container, spec, "k")

    def test_the_same_submission_twice_is_one_run(self, container, tmp_path):
        first = submit(container, job_spec(tmp_path), "same-key")
        again = submit(container, job_spec(tmp_path), "same-key")
        assert first["name"] == again["name"]
        assert len(container.registry.list("run")) == 1


class TestLaunchAndComplete:
    def test_a_run_goes_through_every_status_once_despite_duplicates(self, container, tmp_path):
        run_id = submit(container, job_spec(tmp_path), "k1")["name"]
        [submitted] = drain(container, "compute-scale")
        handle("compute-scale", submitted.to_json(), container.ports())  # duplicate
        assert len(drain(container, "job-launch")) == 1
        launch = Envelope(LaunchJob(run_id), id=f"{run_id}-launch")
        handle("job-launch", launch.to_json(), container.ports())  # duplicate: no new process
        wait_exited(container, run_id)
        drain(container, "job-complete")
        complete = Envelope(CompleteJob(run_id)).to_json()
        handle("job-complete", complete, container.ports())  # duplicate
        assert history(container, run_id) == ["NotStarted", "Queued", "Preparing", "Starting",
                                              "Running", "Finalizing", "Completed"]
        ended = [e for e in container.bus.events(run_id) if e.type == "JobCompleted"]
        assert len(ended) == 1
        log = container.blobs.get(f"runs/{run_id}/user_logs/std_log_process_0.txt")
        assert b"hello" in log

    def test_a_full_pool_keeps_the_next_run_queued_until_capacity_frees(self, container,
                                                                         tmp_path):
        p = container.ports()
        submit_compute(ComputeSpec(tmp_path, "one", "amlcompute", None, 0, 1, 120, "dedicated"),
                       key="one", registry=p["registry"], bus=p["bus"], clock=p["clock"])
        first = submit(container, job_spec(tmp_path, compute="one"), "a")["name"]
        second = submit(container, job_spec(tmp_path, compute="one"), "b")["name"]
        drain(container, "compute-scale")
        assert [e.message.run_id for e in drain(container, "job-launch")] == [first]
        assert container.registry.get("run", second).body["status"] == "Queued"
        assert container.registry.get("compute", "one").body["current_nodes"] == 1
        wait_exited(container, first)
        # The node reports its end just after exit.json; report it here so as not to race it.
        handle("job-complete", Envelope(CompleteJob(first)).to_json(), container.ports())
        drain(container, "compute-scale")
        assert [e.message.run_id for e in drain(container, "job-launch")] == [second]

    def test_scaling_an_idle_pool_admits_nothing(self, container):
        handle("compute-scale", Envelope(ScalePool("local")).to_json(), container.ports())
        assert drain(container, "job-launch") == []


class TestReconciler:
    def test_a_run_whose_processes_died_unreported_is_failed_by_the_timer(self, container,
                                                                          tmp_path):
        import json
        import os
        import signal

        from shared.handlers.reconcile import reconcile_runs

        spec = job_spec(tmp_path, command="python -c \"import time; time.sleep(60)\"")
        run_id = submit(container, spec, "k")["name"]
        drain(container, "compute-scale")
        drain(container, "job-launch")
        node = container.settings.work_root / run_id / "node-0"
        pid = json.loads((node / "pid.json").read_text())["pid"]
        os.killpg(pid, signal.SIGKILL)  # the whole node dies: nobody reports
        wait_exited(container, run_id)
        p = container.ports()
        assert reconcile_runs(registry=p["registry"], compute=p["compute"],
                              bus=p["bus"]) == [run_id]
        drain(container, "job-complete")
        run = container.registry.get("run", run_id).body
        assert run["status"] == "Failed"
        assert "without reporting" in run["error"]["message"]
        assert reconcile_runs(registry=p["registry"], compute=p["compute"], bus=p["bus"]) == []
