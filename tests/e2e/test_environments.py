"""Job environments through the CLI: an inline conda file runs in a virtual environment
built once from PyPI, conda-only packages are refused, an image runs on the host with a
warning in its log, and a build that fails fails its run."""
import json
import time

import pytest

from shared.runner.venvs import MARKER, envs_root

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
    [built] = built_environments(host).values()

    second, log = finish(cli, probe_job())
    assert second["status"] == "Completed", log
    assert "tomli 2.0.1" in log
    assert second["environment_spec"]["hash"] == first["environment_spec"]["hash"]
    assert list(built_environments(host).values()) == [built]  # same build, not a second


def test_conda_only_packages_are_refused_with_what_to_do(cli, tmp_path):
    conda = "dependencies:\n  - python=3.10\n  - cudatoolkit=11.3\n  - pip:\n    - six\n"
    job = job_folder(tmp_path, "  image: ubuntu:22.04\n  conda_file: conda.yml")
    (tmp_path / "conda.yml").write_text(conda)
    code, _, err = cli("job", "create", "-f", job)
    assert code != 0
    assert "conda-only packages are not supported locally: cudatoolkit=11.3" in err
    assert "list them under pip: instead" in err


def test_an_image_runs_on_the_host_interpreter_with_a_warning_in_its_log(cli, tmp_path):
    image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"
    job = job_folder(tmp_path, f"  image: {image}",
                     command="python -c \"import yaml; print('host packages here')\"")
    run, log = finish(cli, job)
    assert run["status"] == "Completed", log
    assert f"mlcycle: warning: environment image {image} is not used locally" in log
    assert "host packages here" in log
    assert run["environment_spec"] == {"kind": "image", "pip": [], "hash": "", "image": image}


def test_a_venv_that_cannot_be_built_fails_its_run_with_pips_reason(cli, tmp_path):
    conda = "dependencies:\n  - pip:\n    - --no-index\n    - mlcycle-surely-absent==0.1\n"
    job = job_folder(tmp_path, "  conda_file: conda.yml", command="python -c 'print(1)'")
    (tmp_path / "conda.yml").write_text(conda)
    run, log = finish(cli, job, timeout=120)
    assert run["status"] == "Failed"
    assert "pip install exited with code 1" in run["error"]["message"]
    assert "mlcycle-surely-absent" in log  # `job stream` ends with the error
