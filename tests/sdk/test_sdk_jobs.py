"""Jobs, as an Azure ML notebook submits them with azure-ai-ml: local code and a local
input uploaded by the SDK, the live log streamed, a distributed PyTorch job, cancel, and
the SDK's own error for a job mlcycle refuses."""
from pathlib import Path

import pytest
from azure.ai.ml import PyTorchDistribution, command
from azure.ai.ml.entities import AmlCompute
from azure.core.exceptions import HttpResponseError

from tests.sdk.conftest import TERMINAL, wait_for

pytestmark = pytest.mark.e2e
HERE = Path(__file__).parent


def test_a_command_job_with_local_code_and_a_file_input_streams_its_log(trained):
    _, streamed = trained
    assert "Streaming user_logs/std_log_process_0.txt" in streamed
    assert "read 150 rows from iris.csv" in streamed  # the uploaded input reached the job
    assert "epoch 5 accuracy" in streamed and "saved outputs/model/model.pkl" in streamed


def test_the_streamed_job_reads_completed_with_what_it_was_given(ml_client, trained):
    name, _ = trained
    job = ml_client.jobs.get(name)
    assert job.status == "Completed"
    assert (job.display_name, job.experiment_name) == ("iris-sgd", "sdk-tests")
    assert job.inputs["iris"].type == "uri_file"
    assert name in [j.name for j in ml_client.jobs.list()]


def test_the_jobs_studio_service_is_its_page_in_the_studio(ml_client, trained, sdk_host):
    import requests

    from tests.sdk.conftest import exported

    name, _ = trained
    url = ml_client.jobs.get(name).services["Studio"].endpoint
    assert url.startswith(f"{sdk_host.tls_url}/api/studio/runs/")
    bundle = exported(sdk_host.sdk_env)["REQUESTS_CA_BUNDLE"]
    page = requests.get(url, cookies={"mlcycle_studio": sdk_host.key}, verify=bundle,
                        allow_redirects=False, timeout=60)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert f"Run {name}" in page.text and "Completed" in page.text


def test_a_job_submitted_twice_under_one_name_is_one_run(ml_client, trained, sdk_host):
    name, _ = trained
    job = ml_client.jobs.get(name)
    job.tags = {"reviewed": "yes"}
    again = ml_client.jobs.create_or_update(job)
    assert again.name == name and again.tags == {"reviewed": "yes"}
    assert [r.name for r in sdk_host.container.registry.list("run")].count(name) == 1


def test_a_two_instance_pytorch_job_runs_every_rank(ml_client, sdk_host):
    ml_client.compute.begin_create_or_update(AmlCompute(
        name="cpu-cluster", size="STANDARD_D2_V2", min_instances=0, max_instances=2,
        idle_time_before_scale_down=60)).result()
    job = command(code=str(HERE / "ddp"), command="python allreduce.py",
                  environment="AzureML-pytorch-1.13@latest", compute="cpu-cluster",
                  instance_count=2, distribution=PyTorchDistribution(process_count_per_instance=1))
    name = ml_client.jobs.create_or_update(job).name
    status = wait_for(lambda: (s := ml_client.jobs.get(name).status) in TERMINAL and s)
    blobs = sdk_host.container.blobs
    logs = [blobs.get(f"runs/{name}/user_logs/std_log_process_{rank}.txt").decode()
            for rank in (0, 1)]
    assert status == "Completed", logs
    assert "rank 0 of 2 node 0 sum 1" in logs[0] and "rank 1 of 2 node 1 sum 1" in logs[1]
    assert ml_client.jobs.get(name).resources.instance_count == 2


def test_a_job_for_a_compute_that_does_not_exist_gets_the_sdks_error(ml_client):
    job = command(command="echo hello", environment="AzureML-sklearn-1.5@latest",
                  compute="no-such-cluster")
    with pytest.raises(HttpResponseError) as refused:
        ml_client.jobs.create_or_update(job)
    assert refused.value.status_code == 400
    assert "compute 'no-such-cluster' does not exist" in refused.value.message


def test_a_running_job_can_be_canceled(ml_client):
    job = command(command="sleep 300", environment="AzureML-sklearn-1.5@latest")
    name = ml_client.jobs.create_or_update(job).name
    wait_for(lambda: ml_client.jobs.get(name).status == "Running")
    ml_client.jobs.begin_cancel(name).result()
    assert wait_for(lambda: (s := ml_client.jobs.get(name).status) in TERMINAL and s) \
        == "Canceled"
