"""Job environments: resolved and refused at intake, built once into a cached venv at
launch, and a build that fails fails its run. Offline: packages come from a wheel the
tests write themselves."""
import json
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest

from shared.domain.errors import InvalidSpec, PermanentError
from shared.handlers.intake_jobs import submit_job
from shared.handlers.registry import handle
from shared.ports import LaunchPlan, NodeSpec, ProcessSpec
from shared.runner import venvs
from shared.runner.environments import (HOST_PYTHON, announce_warnings, environment_of_spec,
                                        from_record, inline_requirement_files,
                                        resolve_environment, to_record)
from shared.runner.venvs import MARKER, ensure_venv, envs_root, interpreter_of
from shared.specs.types import JobSpec

OTHER_PYTHON = "3.7" if HOST_PYTHON != "3.7" else "3.8"


def conda(*pip, extra=()):
    return {"name": "probe", "dependencies": [*extra, {"pip": list(pip)}]}


def probe_wheel(folder: Path, version: str = "1.0") -> Path:
    """A minimal pure-Python wheel of `mlcycle-probe`, so builds need no index."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"mlcycle_probe-{version}.dist-info"
    files = {
        "mlcycle_probe/__init__.py": f'__version__ = "{version}"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: mlcycle-probe\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    path = folder / f"mlcycle_probe-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return path


@pytest.fixture
def wheels(tmp_path):
    probe_wheel(tmp_path / "wheels")
    return tmp_path / "wheels"


def offline(wheels: Path, *requirements: str) -> tuple[str, ...]:
    return ("--no-index", f"--find-links {wheels}", *requirements)


def venv_plan(*pip):
    return resolve_environment("inline", None, conda(*pip))


def job_spec(folder: Path, *, image=None, conda_file=None, conda_path=None,
             command="python -c \"import mlcycle_probe\"") -> JobSpec:
    return JobSpec(source=folder / "job.yml", command=command, code=folder,
                   environment="inline", environment_image=image,
                   environment_conda=conda_file, compute="local", instance_count=1,
                   distribution=None, timeout_s=None, inputs={}, outputs={}, name=None,
                   display_name=None, experiment_name="exp", description="", tags={},
                   environment_conda_file=conda_path)


def submit(container, spec, key="k"):
    p = container.ports()
    return submit_job(spec, key=key, blobs=p["blobs"], registry=p["registry"], bus=p["bus"],
                      clock=p["clock"])


def launch(container, run_id):
    """Admit the run and handle its LaunchJob as the job-launch worker would."""
    while (received := container.bus.receive("compute-scale")) is not None:
        handle("compute-scale", received.envelope.to_json(), container.ports())
        container.bus.complete(received)
    received = container.bus.receive("job-launch")
    assert received is not None and received.envelope.message.run_id == run_id
    handle("job-launch", received.envelope.to_json(), container.ports())


def launched_plan(container, run_id) -> dict:
    return json.loads((container.settings.work_root / run_id / "node-0" / "plan.json").read_text())


class TestResolvingAnEnvironment:
    def test_a_curated_name_runs_on_the_host_interpreter(self):
        plan = resolve_environment("AzureML-sklearn-1.0@latest", None, None)
        assert (plan.kind, plan.pip, plan.hash, plan.warnings) == ("curated", (), "", ())

    def test_a_conda_file_becomes_a_venv_of_its_pip_part(self):
        plan = resolve_environment("inline", None, conda("tomli==2.0.1", extra=["pip"]))
        assert plan.kind == "venv" and plan.pip == ("pip", "tomli==2.0.1")
        assert plan.warnings == ()

    def test_the_same_pip_part_hashes_the_same_and_a_different_one_does_not(self):
        same = resolve_environment("inline", None, conda("six==1.16.0", extra=["python"]))
        assert same.hash == venv_plan("six==1.16.0").hash
        assert venv_plan("six==1.17.0").hash != same.hash

    def test_conda_only_packages_are_refused_by_name(self):
        spec = conda("six", extra=["python=3.10", "pip", "cudatoolkit=11.3", "conda-forge::numpy"])
        with pytest.raises(InvalidSpec, match="conda-only packages are not supported locally: "
                                              "cudatoolkit=11.3, conda-forge::numpy; list them "
                                              "under pip: instead"):
            resolve_environment("inline", None, spec)

    def test_a_python_other_than_the_hosts_is_a_warning_not_a_refusal(self):
        plan = resolve_environment("inline", None, conda("six", extra=[f"python={OTHER_PYTHON}"]))
        assert plan.kind == "venv"
        assert plan.warnings == (f"the conda file asks for python {OTHER_PYTHON}; locally the "
                                 f"job runs on python {HOST_PYTHON}",)

    def test_an_image_alone_runs_on_the_host_with_a_warning(self):
        plan = resolve_environment("inline", "mcr.microsoft.com/azureml/curated:1", None)
        assert plan.kind == "image" and plan.image == "mcr.microsoft.com/azureml/curated:1"
        assert "is not used locally" in plan.warnings[0]

    def test_an_image_with_a_conda_file_is_recorded_beside_the_venv(self):
        plan = resolve_environment("inline", "ubuntu:22.04", conda("six"))
        assert plan.kind == "venv" and plan.image == "ubuntu:22.04"
        assert "virtual environment built from its conda file" in plan.warnings[0]

    def test_a_record_reads_back_as_the_same_plan(self):
        plan = resolve_environment("inline", "ubuntu:22.04", conda("six"))
        assert from_record(json.loads(json.dumps(to_record(plan))), plan.warnings) == plan
        assert from_record(None).kind == "curated"


class TestRequirementFiles:
    def test_a_requirements_file_beside_the_conda_file_is_inlined(self, tmp_path):
        (tmp_path / "requirements.txt").write_text("# pinned\nsix==1.16.0  # why not\n-r more.txt\n")
        (tmp_path / "more.txt").write_text("tomli==2.0.1\n")
        inlined = inline_requirement_files(conda("-r requirements.txt", "attrs"), tmp_path)
        assert inlined["dependencies"][0]["pip"] == ["six==1.16.0", "tomli==2.0.1", "attrs"]

    def test_a_job_spec_reads_requirements_from_its_conda_files_folder(self, tmp_path):
        (tmp_path / "env").mkdir()
        (tmp_path / "env" / "requirements.txt").write_text("six==1.16.0\n")
        spec = job_spec(tmp_path, conda_file=conda("--requirement=requirements.txt"),
                        conda_path=tmp_path / "env" / "conda.yml")
        assert environment_of_spec(spec).pip == ("six==1.16.0",)

    def test_a_requirements_file_outside_the_conda_files_folder_is_refused(self, tmp_path):
        (tmp_path / "secret.txt").write_text("six\n")
        (tmp_path / "env").mkdir()
        with pytest.raises(InvalidSpec, match="outside the conda file's folder"):
            inline_requirement_files(conda("-r ../secret.txt"), tmp_path / "env")

    def test_a_missing_requirements_file_is_refused(self, tmp_path):
        with pytest.raises(InvalidSpec, match="'nope.txt' does not exist"):
            inline_requirement_files(conda("-r nope.txt"), tmp_path)

    def test_an_unread_requirements_file_is_refused_rather_than_handed_to_pip(self):
        with pytest.raises(InvalidSpec, match="names a requirements file"):
            resolve_environment("inline", None, conda("-r requirements.txt"))


class TestWarningsInTheLog:
    def test_every_process_echoes_the_warnings_to_stderr_first(self):
        processes = tuple(ProcessSpec(rank, rank, "echo ran") for rank in (0, 1))
        plan = LaunchPlan("r", "s", {}, (), (NodeSpec(0, processes),))
        warned = announce_warnings(plan, ["image 'x' isn't used"])
        for process in warned.nodes[0].processes:
            done = subprocess.run(["bash", "-c", process.command], capture_output=True, text=True)
            assert done.stderr == "mlcycle: warning: image 'x' isn't used\n"
            assert done.stdout == "ran\n"
        assert announce_warnings(plan, []) is plan


class TestBuildingAVenv:
    def test_a_venv_is_built_once_and_holds_only_what_was_asked(self, tmp_path, wheels):
        plan = venv_plan(*offline(wheels, "mlcycle-probe==1.0"))
        folder = ensure_venv(plan, tmp_path / "envs")
        built = json.loads((folder / MARKER).read_text())
        assert ensure_venv(plan, tmp_path / "envs") == folder == tmp_path / "envs" / plan.hash
        assert json.loads((folder / MARKER).read_text())["build_id"] == built["build_id"]
        probe = "import importlib.util as u, mlcycle_probe; print(mlcycle_probe.__version__, " \
                "u.find_spec('yaml') is None, u.find_spec('pip') is None)"
        out = subprocess.run([interpreter_of(folder), "-c", probe], capture_output=True,
                             text=True, check=True).stdout
        assert out.split() == ["1.0", "True", "True"]  # the project's packages stay out

    def test_concurrent_launches_build_once(self, tmp_path, wheels, monkeypatch):
        builds = []
        real_build = venvs._build
        monkeypatch.setattr(venvs, "_build", lambda *a: builds.append(a) or real_build(*a))
        plan = venv_plan(*offline(wheels, "mlcycle-probe==1.0"))
        folders = []
        threads = [threading.Thread(target=lambda: folders.append(
            ensure_venv(plan, tmp_path / "envs"))) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(builds) == 1 and len(set(folders)) == 1 and len(folders) == 3

    def test_a_failed_build_says_why_and_leaves_nothing_behind(self, tmp_path, wheels):
        plan = venv_plan(*offline(wheels, "mlcycle-no-such-package==1.0"))
        with pytest.raises(PermanentError) as failure:
            ensure_venv(plan, tmp_path / "envs")
        assert "pip install exited with code 1" in str(failure.value)
        assert "mlcycle-no-such-package" in str(failure.value)
        assert not (tmp_path / "envs" / plan.hash).exists()

    def test_a_build_that_died_half_way_is_built_again(self, tmp_path, wheels):
        plan = venv_plan(*offline(wheels, "mlcycle-probe==1.0"))
        leftover = tmp_path / "envs" / plan.hash
        leftover.mkdir(parents=True)
        (leftover / "half-written").write_text("")
        folder = ensure_venv(plan, tmp_path / "envs")
        assert (folder / MARKER).is_file() and not (folder / "half-written").exists()


class TestSubmittingAJob:
    def test_the_environment_is_recorded_on_the_run(self, container, tmp_path):
        run = submit(container, job_spec(tmp_path, image="ubuntu:22.04", conda_file=conda("six")))
        assert run["environment_spec"]["kind"] == "venv"
        assert run["environment_spec"]["image"] == "ubuntu:22.04"
        assert run["environment_spec"]["pip"] == ["six"]
        assert "is not used locally" in run["warnings"][0]

    def test_conda_only_packages_are_refused_before_anything_is_created(self, container,
                                                                         tmp_path):
        spec = job_spec(tmp_path, conda_file=conda("six", extra=["cudatoolkit"]))
        with pytest.raises(InvalidSpec, match="not supported locally: cudatoolkit"):
            submit(container, spec)
        assert container.registry.list("run") == []


class TestLaunchingInAnEnvironment:
    def test_a_venv_job_is_planned_on_the_venvs_python(self, container, tmp_path, wheels):
        spec = job_spec(tmp_path, conda_file=conda(*offline(wheels, "mlcycle-probe==1.0")))
        run = submit(container, spec)
        launch(container, run["name"])
        folder = envs_root(container.settings.data_root) / run["environment_spec"]["hash"]
        assert launched_plan(container, run["name"])["interpreter"] == str(interpreter_of(folder))
        assert container.registry.get("run", run["name"]).body["status"] == "Starting"

    def test_an_image_job_is_planned_on_the_host_with_its_warning_first(self, container,
                                                                         tmp_path):
        run = submit(container, job_spec(tmp_path, image="ubuntu:22.04", command="true"))
        launch(container, run["name"])
        plan = launched_plan(container, run["name"])
        assert plan["interpreter"] is None
        command = plan["nodes"][0]["processes"][0]["command"]
        assert command.startswith("echo 'mlcycle: warning: environment image ubuntu:22.04")

    def test_a_failed_build_fails_the_run_with_pips_reason(self, container, tmp_path, wheels):
        spec = job_spec(tmp_path, conda_file=conda(*offline(wheels, "mlcycle-absent==9")))
        run_id = submit(container, spec)["name"]
        with pytest.raises(PermanentError, match="pip install exited"):
            launch(container, run_id)  # the worker dead-letters it
        run = container.registry.get("run", run_id).body
        assert run["status"] == "Failed"
        assert "mlcycle-absent" in run["error"]["message"]
        ended = [e for e in container.bus.events(run_id) if e.type == "JobFailed"]
        assert len(ended) == 1
        assert container.settings.work_root.joinpath(run_id).exists() is False

