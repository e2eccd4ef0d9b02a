"""A run whose environment is a conda file's pip list, on Batch: the node builds the venv
(from MLCYCLE_ENV_PIP on the task), so job-launch on the Functions host builds nothing —
not even for a package no index here could install."""
from __future__ import annotations

import json

from shared.domain.status import RunStatus
from shared.handlers.intake_jobs import submit_job
from shared.runner.venvs import envs_root
from shared.specs.types import JobSpec
from tests.fakes.batch_world import BatchWorld

UNINSTALLABLE = "mlcycle-no-such-package==9.9.9"


def test_job_launch_leaves_the_venv_to_the_batch_node(tmp_path):
    world = BatchWorld(tmp_path)
    world.create_pool("gpu", most=1)
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('training')\n")
    spec = JobSpec(source=code / "job.yml", command="python train.py", code=code,
                   environment="inline", environment_image=None,
                   environment_conda={"name": "e", "dependencies": [{"pip": [UNINSTALLABLE]}]},
                   compute="gpu", instance_count=1, distribution=None, timeout_s=600,
                   inputs={}, outputs={}, name=None, display_name=None,
                   experiment_name="batch", description="", tags={})
    run_id = submit_job(spec, key="k", blobs=world.blobs, registry=world.registry,
                        bus=world.bus, clock=world.clock)["name"]
    world.launch()
    assert world.run(run_id)["status"] == RunStatus.STARTING.value
    env = {e["name"]: e["value"] for e in world.task(run_id)["environmentSettings"]}
    assert json.loads(env["MLCYCLE_ENV_PIP"]) == [UNINSTALLABLE]
    assert not envs_root(world.ports()["settings"].data_root).exists()
