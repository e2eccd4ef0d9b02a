"""compute-scale on Azure Batch: the pool policy (shared.domain.pools) decides, and
BatchCompute carries each decision out on the Batch pool, through the real SDK over the
fake Batch REST API. Time is the fake clock that the policy reads."""
from __future__ import annotations

import pytest

from shared.adapters.batch_pools import PoolDefaults
from shared.domain.errors import TransientError
from shared.domain.status import RunStatus
from tests.fakes.batch_world import BatchWorld


@pytest.fixture
def world(tmp_path) -> BatchWorld:
    return BatchWorld(tmp_path)


def finish(world: BatchWorld, run_id: str) -> None:
    """The run's task completes, the reconciler notices, and its nodes are released."""
    world.batch.ends(run_id, exit_code=0)
    for _ in range(10):
        if world.run(run_id)["status"] == RunStatus.COMPLETED.value:
            break
        world.reconcile()
    world.drain("compute-scale")


class TestCreatingAPool:
    def test_a_new_compute_gets_an_empty_pool_that_one_multi_node_job_may_use(self, world):
        world.create_pool("gpu", most=4)
        world.drain("compute-scale")
        [pool] = world.batch.bodies("POST", "/pools")
        assert (pool["targetDedicatedNodes"], pool["enableInterNodeCommunication"]) == (0, True)
        assert pool["metadata"] == [{"name": "mlcycle-compute", "value": "gpu"}]

    def test_a_single_node_compute_has_no_inter_node_communication(self, world):
        world.create_pool("cpu", most=1, size="Standard_D4s_v5")
        world.drain("compute-scale")
        [pool] = world.batch.bodies("POST", "/pools")
        assert (pool["vmSize"], pool["enableInterNodeCommunication"]) == (
            "Standard_D4s_v5", False)

    def test_a_low_priority_compute_asks_for_low_priority_nodes(self, world):
        world.create_pool("spot", most=2, tier="low_priority")
        world.drain("compute-scale")
        world.submit(compute="spot")
        world.launch()
        [resize] = world.batch.bodies("POST", "/pools/spot/resize")
        assert (resize["targetDedicatedNodes"], resize["targetLowPriorityNodes"]) == (0, 1)


    def test_a_default_image_is_pulled_by_every_node_and_runs_jobs_that_name_none(self, world):
        image = "mcr.microsoft.com/azureml/curated/acpt-pytorch-2.2-cuda12.1:latest"
        world.compute.defaults = PoolDefaults(default_image=image)
        world.create_pool("gpu", most=2)
        run_id = world.submit()
        world.launch()
        [pool] = world.batch.bodies("POST", "/pools")
        containers = pool["virtualMachineConfiguration"]["containerConfiguration"]
        assert containers["containerImageNames"] == [image]
        assert world.task(run_id)["containerSettings"]["imageName"] == image


class TestScaling:
    def test_the_pool_grows_for_a_job_and_shrinks_after_its_idle_time(self, world):
        world.create_pool("gpu", most=2, idle_s=120)
        world.drain("compute-scale")
        run_id = world.submit()
        world.launch()
        [grow] = world.batch.bodies("POST", "/pools/gpu/resize")
        assert (grow["targetDedicatedNodes"], grow["nodeDeallocationOption"]) == (
            1, "taskcompletion")
        finish(world, run_id)
        world.clock.advance(119)
        world.tick_pools()
        assert len(world.batch.bodies("POST", "/pools/gpu/resize")) == 1  # still idle
        world.clock.advance(1)
        world.tick_pools()
        shrink = world.batch.bodies("POST", "/pools/gpu/resize")[-1]
        assert (shrink["targetDedicatedNodes"], shrink["targetLowPriorityNodes"]) == (0, 0)
        assert world.registry.get("compute", "gpu").body["target_nodes"] == 0

    def test_a_decision_the_pool_already_follows_sends_no_resize(self, world):
        world.create_pool("gpu", most=2)
        world.drain("compute-scale")
        world.compute.resize(world.registry.get("compute", "gpu").body)
        assert world.batch.bodies("POST", "/pools/gpu/resize") == []

    def test_a_resize_while_batch_is_still_resizing_waits_for_a_retry(self, world):
        world.create_pool("gpu", most=2)
        world.drain("compute-scale")
        world.batch.pools["gpu"].update(allocationState="resizing", targetDedicatedNodes=2)
        body = {**world.registry.get("compute", "gpu").body, "target_nodes": 1}
        with pytest.raises(TransientError, match="still resizing"):
            world.compute.resize(body)
        world.compute.client.get_pool("gpu")  # Batch finishes the earlier resize
        world.compute.resize(body)
        assert world.batch.bodies("POST", "/pools/gpu/resize")[-1]["targetDedicatedNodes"] == 1
