"""A job runs user code with the host's rights, so what the host keeps for itself stays
out of its reach: it is not told where the host's home (and in it the key) is, and a
link it leaves in its outputs or logs that leads out of its folder is not followed into
the blob store, where anyone who can read the run could download what it points at.
Real jobs on a real local host, driven through the CLI like a user would."""
import pytest

from tests.e2e.test_distributed import downloaded, finished

pytestmark = pytest.mark.e2e

JOB = """$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: ./src
command: >-
  env | sort &&
  cat "${{MLCYCLE_HOME:-/nowhere}}/config.json" "${{MLCYCLE_CONFIG:-/nowhere}}";
  ln -s {secret} outputs/leak &&
  ln -s {secret} ../user_logs/leak.txt &&
  ln -s {outside} outputs/elsewhere &&
  echo kept > outputs/kept.txt &&
  ln -s kept.txt outputs/alias.txt &&
  echo done
environment: azureml:AzureML-sklearn-1.0@latest
"""


@pytest.fixture
def job(tmp_path):
    """A job that prints its environment, tries to read the host's config, and leaves
    links to a file and a folder outside its run, beside a file and a link of its own."""
    secret = tmp_path / "private" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not-for-the-blob-store\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "readme.txt").write_text("code\n")
    (tmp_path / "job.yml").write_text(JOB.format(secret=secret, outside=secret.parent))
    return tmp_path / "job.yml", secret


def test_a_job_is_not_told_where_the_host_keeps_its_key(cli, host, job):
    spec, _ = job
    run = finished(cli, cli.json("job", "create", "-f", spec)["name"])
    log = host.container.blobs.get(f"runs/{run['name']}/user_logs/std_log_process_0.txt")

    assert run["status"] == "Completed", run.get("error")
    assert b"MLCYCLE_RUN_ID=" in log  # it did print its environment
    assert b"MLCYCLE_HOME" not in log and b"MLCYCLE_CONFIG" not in log
    assert host.key.encode() not in log


def test_links_out_of_the_run_are_not_collected_and_the_run_says_so(cli, host, job,
                                                                    tmp_path):
    spec, secret = job
    run = finished(cli, cli.json("job", "create", "-f", spec)["name"])
    files = downloaded(cli, run["name"], tmp_path / "downloaded")

    assert run["status"] == "Completed", run.get("error")
    assert (files / "outputs" / "kept.txt").read_text() == "kept\n"
    assert (files / "outputs" / "alias.txt").read_text() == "kept\n"  # a link of its own
    assert not (files / "outputs" / "leak").exists()
    assert not (files / "outputs" / "elsewhere").exists()
    assert not (files / "user_logs" / "leak.txt").exists()
    refused = [w for w in run["warnings"] if "leads out of the run's folder" in w]
    assert [w.split(" ")[0] for w in refused] == [
        "node-0/code/outputs/elsewhere", "node-0/code/outputs/leak",
        "node-0/user_logs/leak.txt"]
    stored = [p for p in host.container.blobs.root.rglob("*") if p.is_file()]
    assert not [p for p in stored if secret.read_bytes() in p.read_bytes()]
    assert secret.read_text() == "not-for-the-blob-store\n"  # the link went, not the file
