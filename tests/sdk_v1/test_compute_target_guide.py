"""The compute-target guide of SDK v1 ("Configure and submit training runs"), as its code
is written, against a live local host: a run on the local computer with a user-managed
environment, first on the python mlcycle gives it, then on the interpreter the
environment names, set through run_config.target and run_config.environment."""
import site
import time
import venv

import pytest
from azureml.core import Environment, Experiment, RunConfiguration, ScriptRunConfig
from azureml.exceptions import ActivityFailedException

from tests.sdk_v1.runs import SRC, waited

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def experiment(ws):
    return Experiment(workspace=ws, name="local-runs")


@pytest.fixture(scope="module")
def own_python(tmp_path_factory):
    """A python the user manages: a virtual environment that sees the packages this
    one has (as a conda environment with them installed would)."""
    folder = tmp_path_factory.mktemp("myenv")
    venv.create(folder, with_pip=False)
    (purelib,) = folder.glob("lib/python*/site-packages")
    dirs = [d for d in site.getsitepackages()]
    (purelib / "host_packages.pth").write_text(
        "".join(f"import site; site.addsitedir({d!r})\n" for d in dirs))
    return folder / "bin" / "python"


def test_a_user_managed_environment_runs_on_the_local_computer(ws, experiment, host):
    myenv = Environment("user-managed-env")
    myenv.python.user_managed_dependencies = True
    src = ScriptRunConfig(source_directory=SRC, script="local_train.py",
                          compute_target="local", environment=myenv)
    run = experiment.submit(config=src)
    printed = waited(run)

    assert run.get_details()["target"] == "local"
    assert "python: " + str(host.container.settings.data_root) in printed  # its own venv
    assert run.get_metrics() == {"answer": 42.0}
    assert run.get_tags()["python"].startswith(str(host.container.settings.data_root))


def test_the_interpreter_path_of_a_user_managed_environment_runs_the_script(
        ws, experiment, own_python, tmp_path):
    myenv = Environment("user-managed-env")
    myenv.python.user_managed_dependencies = True
    myenv.python.interpreter_path = str(own_python)
    src = ScriptRunConfig(source_directory=SRC, script="local_train.py",
                          run_config=RunConfiguration())
    src.run_config.target = "local"
    src.run_config.environment = myenv
    run = experiment.submit(config=src)
    waited(run)

    run.download_file("outputs/python.txt", str(tmp_path / "python.txt"))
    assert (tmp_path / "python.txt").read_text() == str(own_python)
    assert run.get_tags()["python"] == str(own_python)


def test_a_canceled_run_ends_canceled_and_waiting_on_it_raises(experiment):
    src = ScriptRunConfig(source_directory=SRC, script="hold.py", compute_target="local")
    run = experiment.submit(src)
    deadline = time.monotonic() + 300
    while run.get_status() != "Running" and time.monotonic() < deadline:
        time.sleep(0.5)

    run.cancel()

    with pytest.raises(ActivityFailedException, match="Canceled"):
        run.wait_for_completion()
    assert run.get_status() == "Canceled"
