"""Job environments: resolved and refused at intake, built once into a cached venv at
launch (curated ones too, over the host's packages), and a build that fails fails its
run. Offline: packages come from wheels the tests write themselves."""
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from shared.domain.errors import InvalidSpec, PermanentError
from shared.handlers.intake import accept_spec
from shared.handlers.intake_jobs import submit_job
from shared.handlers.registry import handle
from shared.ports import LaunchPlan, NodeSpec, ProcessSpec
from shared.runner import venvs
from shared.runner.host_layer import build_layered, host_site_dirs
from shared.runner.environments import (HOST_PYTHON, announce_warnings, curated,
                                        environment_of_spec, from_record,
                                        inline_requirement_files, resolve_environment,
                                        to_record)
from shared.runner.venvs import MARKER, ensure_venv, envs_root, interpreter_of, venv_key
from shared.specs.types import JobSpec
from tests.wheels import host_finds, probe_wheel, remove_from_host

OTHER_PYTHON = "3.7" if HOST_PYTHON != "3.7" else "3.8"


def conda(*pip, extra=()):
    return {"name": "probe", "dependencies": [*extra, {"pip": list(pip)}]}


@pytest.fixture
def wheels(tmp_path):
    probe_wheel(tmp_path / "wheels")
    return tmp_path / "wheels"


def offline(wheels: Path, *requirements: str) -> tuple[str, ...]:
    return ("--no-index", f"--find-links {wheels}", *requirements)


def venv_plan(*pip):
    return resolve_environment("inline", None, conda(*pip))


def job_spec(folder: Path, *, image=None, conda_file=None, conda_path=None,
             command="python -c \"import mlcycle_probe\"", environment="inline") -> JobSpec:
    return JobSpec(source=folder / "job.yml", command=command, code=folder,
                   environment=environment, environment_image=image,
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
    def test_a_curated_name_is_an_environment_of_its_own_whatever_its_version(self):
        plan = resolve_environment("AzureML-sklearn-1.0@latest", None, None)
        assert (plan.kind, plan.name, plan.pip, plan.warnings) == (
            "curated", "AzureML-sklearn-1.0", (), ())
        assert resolve_environment("AzureML-sklearn-1.0:33", None, None) == plan

    def test_a_name_neither_registered_nor_curated_runs_as_curated_with_a_warning(self):
        plan = resolve_environment("my-env:2", None, None)
        assert (plan.kind, plan.name) == ("curated", "my-env")
        assert plan.warnings == ("environment my-env:2 is not registered here (mlcycle "
                                 "environment create): the job runs as a curated "
                                 "environment does, on the host's packages",)

    def test_a_registered_environment_is_resolved_to_its_definition(self, tmp_path):
        registered = {"name": "probe-env", "version": "2", "image": "ubuntu:22.04",
                      "conda_file": conda("six==1.16.0")}
        plan = environment_of_spec(job_spec(tmp_path, environment="probe-env@latest"),
                                   registered)
        assert (plan.kind, plan.pip, plan.image, plan.name) == (
            "venv", ("six==1.16.0",), "ubuntu:22.04", "probe-env:2")
        assert plan.hash == venv_plan("six==1.16.0").hash  # the same venv as inline

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

    @pytest.mark.parametrize("kind", ["venv", "curated"])
    def test_concurrent_launches_build_once(self, tmp_path, wheels, monkeypatch, kind):
        builds = []
        builder = "_build" if kind == "venv" else "_build_over_host"
        real_build = getattr(venvs, builder)
        monkeypatch.setattr(venvs, builder, lambda *a: builds.append(a) or real_build(*a))
        plan = (venv_plan(*offline(wheels, "mlcycle-probe==1.0")) if kind == "venv"
                else curated("AzureML-sklearn-1.5@latest"))
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


@pytest.fixture
def layer_probe(tmp_path):
    """A wheel of `mlcycle-layer-probe`, which the service's interpreter must never get;
    taken out of it again if a failing test's install reached it."""
    probe_wheel(tmp_path / "layer-wheels", "mlcycle-layer-probe")
    yield tmp_path / "layer-wheels"
    remove_from_host("mlcycle-layer-probe", "mlcycle_layer_probe")


def run_in(folder: Path, *argv: str) -> str:
    """stdout of argv run with folder's bin/ first on PATH, as a job's processes are."""
    env = {"PATH": f"{folder / 'bin'}:/usr/bin:/bin"}
    return subprocess.run(list(argv), capture_output=True, text=True, check=True,
                          env=env).stdout


class TestCuratedEnvironments:
    def test_a_curated_venv_sees_the_hosts_packages_and_keeps_a_jobs_installs(
            self, tmp_path, layer_probe):
        folder = ensure_venv(curated("AzureML-sklearn-1.5@latest"), tmp_path / "envs")
        probe = "import sys, sklearn, yaml; print(sys.prefix)"
        assert run_in(folder, "python", "-c", probe).strip() == str(folder)
        run_in(folder, "pip", "install", "--no-index", "--find-links", str(layer_probe),
               "mlcycle-layer-probe")
        imported = "import mlcycle_layer_probe as p; print(p.__file__)"
        assert run_in(folder, "python", "-c", imported).startswith(str(folder / "lib"))
        assert not host_finds("mlcycle_layer_probe")
        assert str(interpreter_of(folder)) != sys.executable

    def test_the_hosts_console_scripts_run_on_the_curated_venvs_python(self, tmp_path):
        folder = ensure_venv(curated("AzureML-sklearn-1.5@latest"), tmp_path / "envs")
        assert "usage: mlcycle" in run_in(folder, "mlcycle", "--help")  # the project's own
        launcher = (folder / "bin" / "mlcycle").read_text()
        assert launcher.startswith('#!/bin/sh\nexec "$(dirname "$0")/python" ')

    def test_a_curated_venv_is_built_once_per_name(self, tmp_path):
        folder = ensure_venv(curated("AzureML-sklearn-1.5@latest"), tmp_path / "envs")
        built = json.loads((folder / MARKER).read_text())
        again = ensure_venv(curated("AzureML-sklearn-1.5:3"), tmp_path / "envs")
        assert again == folder
        assert json.loads((folder / MARKER).read_text())["build_id"] == built["build_id"]
        other = ensure_venv(curated("AzureML-pytorch-2.2@latest"), tmp_path / "envs")
        assert other != folder and (other / MARKER).is_file()

    def test_an_image_gets_a_venv_over_the_host_of_its_own(self, tmp_path):
        image = resolve_environment("inline", "ubuntu:22.04", None)
        folder = ensure_venv(image, tmp_path / "envs")
        assert folder != ensure_venv(curated("AzureML-sklearn-1.5@latest"), tmp_path / "envs")
        assert run_in(folder, "python", "-c", "import sklearn; print('ok')") == "ok\n"

    def test_an_upgrade_in_the_venv_leaves_the_layer_below_as_it_was(self, tmp_path):
        # A stand-in for the host's site-packages, holding version 1.0 of a package.
        host = tmp_path / "host-site"
        subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--target",
                        str(host), str(probe_wheel(tmp_path / "w1", "mlcycle-layered",
                                                   "1.0"))],
                       capture_output=True, check=True)
        probe_wheel(tmp_path / "w2", "mlcycle-layered", "2.0")
        folder = tmp_path / "env"
        build_layered(folder, layer=[str(host), *host_site_dirs()])  # pip from the host
        version = "import mlcycle_layered as m; print(m.__version__)"
        assert run_in(folder, "python", "-c", version) == "1.0\n"
        run_in(folder, "pip", "install", "--no-index", "--find-links",
               str(tmp_path / "w2"), "mlcycle-layered==2.0")
        assert run_in(folder, "python", "-c", version) == "2.0\n"
        assert (host / "mlcycle_layered" / "__init__.py").read_text() == '__version__ = "1.0"\n'
        assert (host / "mlcycle_layered-1.0.dist-info").is_dir()

    def test_a_curated_build_that_died_half_way_is_built_again(self, tmp_path):
        plan = curated("AzureML-sklearn-1.5@latest")
        leftover = tmp_path / "envs" / venv_key(plan)
        leftover.mkdir(parents=True)
        (leftover / "half-written").write_text("")
        folder = ensure_venv(plan, tmp_path / "envs")
        assert folder == leftover
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


ENV_SPEC = ("$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
            "name: probe-env\nimage: ubuntu:22.04\nconda_file: conda.yml\n")


def register(container, folder: Path, key: str, text: str = ENV_SPEC,
             conda_text: str = "dependencies:\n  - pip:\n    - six==1.16.0\n") -> dict:
    """Register the environment spec text (its conda file beside it) through the intake."""
    (folder / "conda.yml").write_text(conda_text)
    (folder / "env.yml").write_text(text)
    p = container.ports()
    kind, body = accept_spec(folder / "env.yml", root=folder, key=key, blobs=p["blobs"],
                             registry=p["registry"], bus=p["bus"], clock=p["clock"])
    assert kind == "environment"
    return body


class TestRegisteringAnEnvironment:
    def test_versions_count_up_and_the_same_submission_again_makes_none(self, container,
                                                                        tmp_path):
        first = register(container, tmp_path, "k1")
        assert (first["version"], first["kind"], first["pip"]) == ("1", "venv", ["six==1.16.0"])
        assert register(container, tmp_path, "k2")["version"] == "2"
        assert register(container, tmp_path, "k1") == first
        assert [r.version for r in container.registry.list("environment", "probe-env")] == [
            "1", "2"]

    def test_a_version_that_exists_is_refused(self, container, tmp_path):
        register(container, tmp_path, "k1", ENV_SPEC + "version: 4\n")
        with pytest.raises(InvalidSpec, match="environment probe-env version 4 already exists"):
            register(container, tmp_path, "k2", ENV_SPEC + "version: 4\n")

    def test_requirement_files_are_inlined_into_the_record(self, container, tmp_path):
        (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
        body = register(container, tmp_path, "k1",
                        conda_text="dependencies:\n  - pip:\n    - -r requirements.txt\n")
        assert body["conda_file"] == {"dependencies": [{"pip": ["six==1.16.0"]}]}

    def test_conda_only_packages_are_refused_and_nothing_is_registered(self, container,
                                                                       tmp_path):
        with pytest.raises(InvalidSpec, match="conda-only packages are not supported locally"):
            register(container, tmp_path, "k1", conda_text="dependencies:\n  - cudatoolkit\n")
        assert container.registry.list("environment") == []


class TestAJobNamingARegisteredEnvironment:
    def test_it_runs_in_that_version_or_the_latest(self, container, tmp_path):
        register(container, tmp_path, "k1")
        register(container, tmp_path, "k2", ENV_SPEC.replace("ubuntu:22.04", "python:3.11"))
        pinned = submit(container, job_spec(tmp_path, environment="probe-env:1"), key="j1")
        newest = submit(container, job_spec(tmp_path, environment="probe-env@latest"), key="j2")
        assert pinned["environment_spec"]["name"] == "probe-env:1"
        assert pinned["environment_spec"]["image"] == "ubuntu:22.04"
        assert newest["environment_spec"]["name"] == "probe-env:2"
        assert newest["environment_spec"]["pip"] == ["six==1.16.0"]

    def test_a_version_not_registered_is_refused(self, container, tmp_path):
        register(container, tmp_path, "k1")
        with pytest.raises(InvalidSpec, match="environment probe-env:9 is not registered"):
            submit(container, job_spec(tmp_path, environment="probe-env:9"))
        assert container.registry.list("run") == []


class TestLaunchingInAnEnvironment:
    def test_a_venv_job_is_planned_on_the_venvs_python(self, container, tmp_path, wheels):
        spec = job_spec(tmp_path, conda_file=conda(*offline(wheels, "mlcycle-probe==1.0")))
        run = submit(container, spec)
        launch(container, run["name"])
        folder = envs_root(container.settings.data_root) / run["environment_spec"]["hash"]
        assert launched_plan(container, run["name"])["interpreter"] == str(interpreter_of(folder))
        assert container.registry.get("run", run["name"]).body["status"] == "Starting"

    def test_a_curated_job_is_planned_on_a_venv_of_its_own_not_the_services_python(
            self, container, tmp_path):
        spec = job_spec(tmp_path, environment="AzureML-sklearn-1.5@latest", command="true")
        run = submit(container, spec)
        launch(container, run["name"])
        folder = envs_root(container.settings.data_root) / venv_key(
            curated("AzureML-sklearn-1.5@latest"))
        interpreter = launched_plan(container, run["name"])["interpreter"]
        assert interpreter == str(interpreter_of(folder)) != sys.executable
        assert (folder / MARKER).is_file()

    def test_an_image_job_is_planned_over_the_host_with_its_warning_first(self, container,
                                                                          tmp_path):
        run = submit(container, job_spec(tmp_path, image="ubuntu:22.04", command="true"))
        launch(container, run["name"])
        plan = launched_plan(container, run["name"])
        image = from_record(run["environment_spec"])
        folder = envs_root(container.settings.data_root) / venv_key(image)
        assert plan["interpreter"] == str(interpreter_of(folder))
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

