"""Job environments through the CLI: an inline conda file runs in a virtual environment
built once from PyPI, conda-only packages are refused, an image runs over the host's
packages with a warning in its log, a build that fails fails its run, a curated job's
`pip install` stays out of the service's interpreter, and environments registered with
`mlcycle environment create` (or dropped) are what jobs naming them run in."""
import json
import time
from pathlib import Path

import pytest

from shared.runner.venvs import MARKER, envs_root
from tests.wheels import host_finds, probe_wheel, remove_from_host

pytestmark = pytest.mark.e2e

JOB = """$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: ./src
command: {command}
environment:
{environment}
"""
# tomli is not among the project's packages: importing it proves the venv is used, and
# yaml (which the project has) must not be visible from it.
PROBE = ("python -c \"import importlib.util as u, tomli; "
         "print('tomli', tomli.__version__, 'yaml visible:', u.find_spec('yaml') is not None)\"")
CONDA = """name: probe
channels: [conda-forge]
dependencies:
  - pip
  - pip:
    - -r requirements.txt
"""


def job_folder(tmp_path, environment: str, command: str = PROBE, **src_files):
    (tmp_path / "src").mkdir()
    for name, text in src_files.items():
        (tmp_path / "src" / name.replace("_", ".")).write_text(text)
    (tmp_path / "job.yml").write_text(JOB.format(command=command, environment=environment))
    return tmp_path / "job.yml"


def finish(cli, job: str, timeout: float = 300) -> tuple[dict, str]:
    """Submit a job, wait (bounded) for it to end; its record and rank 0's log."""
    name = cli.json("job", "create", "-f", job)["name"]
    deadline = time.monotonic() + timeout
    while (run := cli.json("job", "show", "-n", name))["status"] not in (
            "Completed", "Failed", "Canceled"):
        assert time.monotonic() < deadline, f"{name} is still {run['status']}"
        time.sleep(0.3)
    _, log, _ = cli("job", "stream", "-n", name)
    return run, log


def built_environments(host) -> dict[str, dict]:
    root = envs_root(host.container.settings.data_root)
    return {f.name: json.loads((f / MARKER).read_text())
            for f in root.iterdir() if (f / MARKER).is_file()} if root.is_dir() else {}


@pytest.fixture
def probe_job(tmp_path_factory):
    """A job whose conda file sits in its code folder and reads requirements.txt."""
    return lambda: job_folder(tmp_path_factory.mktemp("probe"), "  conda_file: src/conda.yml",
                              conda_yml=CONDA, requirements_txt="tomli==2.0.1\n")


def test_a_conda_file_runs_in_a_venv_built_once_for_every_job_that_asks(cli, host, probe_job):
    first, log = finish(cli, probe_job())
    assert first["status"] == "Completed", log
    assert "tomli 2.0.1 yaml visible: False" in log
    assert first["environment_spec"]["pip"] == ["pip", "tomli==2.0.1"]
    key = first["environment_spec"]["hash"]
    built = built_environments(host)[key]

    second, log = finish(cli, probe_job())
    assert second["status"] == "Completed", log
    assert "tomli 2.0.1" in log
    assert second["environment_spec"]["hash"] == key
    assert built_environments(host)[key] == built  # same build, not a second


def test_conda_only_packages_are_refused_with_what_to_do(cli, tmp_path):
    conda = "dependencies:\n  - python=3.10\n  - cudatoolkit=11.3\n  - pip:\n    - six\n"
    job = job_folder(tmp_path, "  image: ubuntu:22.04\n  conda_file: conda.yml")
    (tmp_path / "conda.yml").write_text(conda)
    code, _, err = cli("job", "create", "-f", job)
    assert code != 0
    assert "conda-only packages are not supported locally: cudatoolkit=11.3" in err
    assert "list them under pip: instead" in err


def test_an_image_runs_over_the_hosts_packages_with_a_warning_in_its_log(cli, tmp_path):
    image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"
    job = job_folder(tmp_path, f"  image: {image}",
                     command="python -c \"import yaml; print('host packages here')\"")
    run, log = finish(cli, job)
    assert run["status"] == "Completed", log
    assert f"mlcycle: warning: environment image {image} is not used locally" in log
    assert "host packages here" in log
    assert run["environment_spec"] == {"kind": "image", "pip": [], "hash": "", "image": image,
                                       "name": ""}


def test_a_venv_that_cannot_be_built_fails_its_run_with_pips_reason(cli, tmp_path):
    conda = "dependencies:\n  - pip:\n    - --no-index\n    - mlcycle-surely-absent==0.1\n"
    job = job_folder(tmp_path, "  conda_file: conda.yml", command="python -c 'print(1)'")
    (tmp_path / "conda.yml").write_text(conda)
    run, log = finish(cli, job, timeout=120)
    assert run["status"] == "Failed"
    assert "pip install exited with code 1" in run["error"]["message"]
    assert "mlcycle-surely-absent" in log  # `job stream` ends with the error


# --- curated environments: a venv of their own over the host's packages --------------

CURATED_JOB = """$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: ./src
command: {command}
environment: azureml:AzureML-sklearn-1.5@latest
"""
INSTALL = ("pip install --no-index --find-links wheels mlcycle-layer-probe && python -c "
           "\"import sys, sklearn, mlcycle_layer_probe as p; print('probe', p.__version__, "
           "'prefix', sys.prefix)\"")
PREFIX = "python -c \"import sys; print('probe', 'none', 'prefix', sys.prefix)\""


@pytest.fixture
def layer_probe():
    """The package a curated job installs; taken out of the service's interpreter again
    should a failing run's install have reached it."""
    yield "mlcycle-layer-probe"
    remove_from_host("mlcycle-layer-probe", "mlcycle_layer_probe")


def curated_job(folder: Path, command: str) -> Path:
    probe_wheel(folder / "src" / "wheels", "mlcycle-layer-probe")
    (folder / "job.yml").write_text(CURATED_JOB.format(command=command))
    return folder / "job.yml"


def probe_prefix(log: str) -> Path:
    [line] = [line for line in log.splitlines() if line.startswith("probe ")]
    return Path(line.split(" prefix ", 1)[1].strip())


def test_a_pip_install_in_a_curated_job_lands_in_its_own_venv_not_the_services(
        cli, host, tmp_path_factory, layer_probe):
    run, log = finish(cli, curated_job(tmp_path_factory.mktemp("curated"), INSTALL))
    assert run["status"] == "Completed", log
    assert "probe 1.0 prefix" in log
    venv = probe_prefix(log)
    assert venv.parent == envs_root(host.container.settings.data_root)
    assert not host_finds("mlcycle_layer_probe")  # the service's interpreter is untouched
    built = built_environments(host)[venv.name]
    assert built["kind"] == "curated" and built["name"] == "AzureML-sklearn-1.5"

    second, log = finish(cli, curated_job(tmp_path_factory.mktemp("curated"), PREFIX))
    assert second["status"] == "Completed", log
    assert probe_prefix(log) == venv
    assert built_environments(host)[venv.name] == built  # reused, not built again


# --- environments as assets -------------------------------------------------------------

ENV_SCHEMA = "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
ENV_PROBE = ("python -c \"import importlib.util as u, mlcycle_env_probe as p; print('env "
             "probe', p.__version__, 'yaml visible:', u.find_spec('yaml') is not None)\"")


def offline_conda(wheels: Path) -> str:
    probe_wheel(wheels, "mlcycle-env-probe")
    return ("name: probe\ndependencies:\n  - pip:\n    - --no-index\n"
            f"    - --find-links {wheels}\n    - mlcycle-env-probe==1.0\n")


def env_job(folder: Path, environment: str) -> Path:
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "job.yml").write_text(CURATED_JOB.format(command=ENV_PROBE).replace(
        "azureml:AzureML-sklearn-1.5@latest", environment))
    return folder / "job.yml"


def test_environment_versions_are_registered_and_jobs_run_in_the_one_they_name(cli, tmp_path):
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "conda.yml").write_text(offline_conda(tmp_path / "wheels"))
    spec = tmp_path / "env" / "env.yml"
    spec.write_text(ENV_SCHEMA + "name: probe-env-e2e\nimage: ubuntu:22.04\n"
                    "conda_file: file:conda.yml\ndescription: offline probe\n")
    first = cli.json("environment", "create", "-f", spec)
    assert (first["name"], first["version"], first["kind"]) == ("probe-env-e2e", "1", "venv")
    assert first["pip"][-1] == "mlcycle-env-probe==1.0"
    assert cli.json("environment", "create", "-f", spec)["version"] == "2"
    assert cli.json("environment", "create", "-f", spec, "-v", "7")["version"] == "7"
    assert cli.json("environment", "show", "-n", "probe-env-e2e")["version"] == "7"
    assert cli.json("environment", "show", "-n", "probe-env-e2e", "-v", "1") == first
    listed = cli.json("environment", "list", "-n", "probe-env-e2e")
    assert [e["version"] for e in listed] == ["1", "2", "7"]

    pinned, log = finish(cli, env_job(tmp_path / "pinned", "azureml:probe-env-e2e:1"))
    assert pinned["status"] == "Completed", log
    assert "env probe 1.0 yaml visible: False" in log  # its conda file's venv, not the host
    assert pinned["environment_spec"]["name"] == "probe-env-e2e:1"
    newest, log = finish(cli, env_job(tmp_path / "newest", "azureml:probe-env-e2e@latest"))
    assert newest["status"] == "Completed", log
    assert newest["environment_spec"]["name"] == "probe-env-e2e:7"


def test_a_version_not_registered_and_a_build_context_are_refused_with_the_reason(cli,
                                                                                  tmp_path):
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text("FROM python:3.11\n")
    spec = tmp_path / "built.yml"
    spec.write_text(ENV_SCHEMA + "name: built-env-e2e\nbuild:\n  path: docker\n")
    code, _, err = cli("environment", "create", "-f", spec)
    assert code != 0 and "build (a Docker build context) is not supported: no image is " \
                         "built here" in err
    assert cli.json("environment", "list", "-n", "built-env-e2e") == []

    (tmp_path / "img.yml").write_text(ENV_SCHEMA + "name: image-env-e2e\nimage: python:3.11\n")
    assert cli.json("environment", "create", "-f", tmp_path / "img.yml")["kind"] == "image"
    code, _, err = cli("job", "create", "-f", env_job(tmp_path / "job", "azureml:image-env-e2e:3"))
    assert code != 0 and "environment image-env-e2e:3 is not registered" in err


def test_a_job_reads_its_environment_from_a_file_and_that_files_conda_file(cli, tmp_path):
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "conda.yml").write_text(offline_conda(tmp_path / "wheels"))
    (tmp_path / "envs" / "env.yml").write_text(ENV_SCHEMA + "name: anonymous\n"
                                               "conda_file: conda.yml\n")
    run, log = finish(cli, env_job(tmp_path, "file:envs/env.yml"))
    assert run["status"] == "Completed", log
    assert "env probe 1.0 yaml visible: False" in log
    assert run["environment"] == "inline"


def wait_for(predicate, timeout=120):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return result


def test_a_dropped_environment_spec_is_registered_and_a_refused_one_says_why(host):
    folder = host.container.blobs.local_path("specs") / "environments-e2e"
    (folder / "docker").mkdir(parents=True)
    (folder / "docker" / "Dockerfile").write_text("FROM python:3.11\n")
    (folder / "conda.yml").write_text("dependencies:\n  - pip:\n    - six\n")
    (folder / "good.yml").write_text(ENV_SCHEMA + "name: dropped-env\nimage: python:3.11\n"
                                     "conda_file: conda.yml\n")
    (folder / "bad.yml").write_text(ENV_SCHEMA + "name: dropped-bad\nbuild: {path: docker}\n")
    registry = host.container.registry
    [record] = wait_for(lambda: registry.list("environment", "dropped-env"))
    assert record.body["conda_file"] == {"dependencies": [{"pip": ["six"]}]}
    report = json.loads(wait_for(lambda: (folder / "bad.error.json").is_file()
                                 and (folder / "bad.error.json").read_text()))
    assert "no image is built here" in report["error"]["message"]
    assert registry.list("environment", "dropped-bad") == []
    assert not (folder / "good.error.json").exists()
