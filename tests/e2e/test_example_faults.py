"""The faults Azure ML's example job files exposed, each through the real CLI against a
real local host: an autologging job that succeeds is recorded as succeeded, with its
model in run history; an absolute input path is uploaded from the CLI (and still
refused in the drop zone); fields accepted and not acted on are warned of; a model's
framework is told from its files; `data create --path` takes what its help says."""
import json
import time
from pathlib import Path

import pytest
from sklearn.datasets import load_iris

HERE = Path(__file__).parent
pytestmark = pytest.mark.e2e


def until(fetch, done, timeout=600):
    """fetch() until done(result); a bounded wait, never a timing assertion."""
    deadline = time.monotonic() + timeout
    while not done(result := fetch()):
        assert time.monotonic() < deadline, result
        time.sleep(0.3)
    return result


def run_to_end(cli, spec, *sets):
    run = cli.json("job", "create", "-f", spec, *[a for s in sets for a in ("--set", s)])
    return until(lambda: cli.json("job", "show", "-n", run["name"]),
                 lambda r: r["status"] in ("Completed", "Failed", "Canceled"))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class TestAutologgedRuns:
    def test_an_autologging_job_completes_with_its_metrics_and_model(self, cli, tmp_path):
        run = run_to_end(cli, HERE / "mlflow" / "autolog.yml")

        assert (run["status"], run["exit_code"]) == ("Completed", 0), run
        assert run["metrics"]["training_accuracy_score"] > 0.9  # MLflow 3's 5-field lines
        assert [p["step"] for p in run["metric_history"]["loss"]] == [0, 1, 2]
        assert [p["value"] for p in run["metric_history"]["loss"]] == [1.0, 0.5, 1 / 3]
        assert run["metrics"]["broken"] == 1.0  # its good line is kept...
        assert any("'broken'" in w and "unreadable" in w for w in run["warnings"])  # ...the bad one told

        code, _, err = cli("job", "download", "-n", run["name"], "--all",
                           "--download-path", tmp_path / "run")
        assert code == 0, err
        assert "sklearn" in (tmp_path / "run" / "model" / "MLmodel").read_text()

    def test_the_autologged_model_registers_by_its_azure_ml_path_and_converts(self, cli):
        run = run_to_end(cli, HERE / "mlflow" / "autolog.yml")

        model = cli.json("model", "create", "--name", "autologged", "--type", "mlflow_model",
                         "--path", f"azureml://jobs/{run['name']}/outputs/artifacts/paths/model/")
        model = until(lambda: cli.json("model", "show", "-n", "autologged",
                                       "-v", model["version"]),
                      lambda m: m["state"] not in ("Registering", "Registered"))

        assert model["framework"] == "ScikitLearn"  # no tag: told from the MLmodel's flavor
        assert model["state"] == "Converted", model["error"]


class TestAbsoluteInputPaths:
    def spec(self, folder: Path, data: Path) -> Path:
        return write(folder / "job.yml", "\n".join([
            "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json",
            "command: head -n 2 ${{inputs.iris}}",
            "environment: azureml:AzureML-sklearn-1.5@latest",
            "inputs:", "  iris:", "    type: uri_file", f"    path: {data}", ""]))

    def iris(self, tmp_path) -> Path:
        path = tmp_path / "elsewhere" / "iris.csv"
        path.parent.mkdir(parents=True)
        load_iris(as_frame=True).frame.to_csv(path, index=False)
        return path

    def test_the_cli_uploads_an_absolute_input_path(self, cli, host, tmp_path):
        run = run_to_end(cli, self.spec(tmp_path / "job", self.iris(tmp_path)))

        assert run["status"] == "Completed", run
        assert "sepal length (cm)" in run["log_tail"]

    def test_the_drop_zone_still_refuses_it(self, host, tmp_path):
        specs = host.container.blobs.local_path("specs")
        self.spec(specs / "absolute", self.iris(tmp_path))

        error = until(lambda: (specs / "absolute" / "job.error.json").exists(), bool, 120)

        assert error
        message = json.loads((specs / "absolute" / "job.error.json").read_text())
        assert "is outside the spec's folder" in message["error"]["message"]


class TestWarnings:
    def test_fields_accepted_but_not_acted_on_are_warned_of(self, cli, tmp_path):
        spec = write(tmp_path / "job.yml", "\n".join([
            "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json",
            "command: echo greeting=$greeting",
            "environment: azureml:AzureML-sklearn-1.5@latest",
            "environment_variables:", "  greeting: hello world",
            "identity:", "  type: user_identity",
            "services:", "  my_jupyter_lab:", "    type: jupyter_lab", ""]))

        code, out, err = cli("job", "create", "-f", spec)

        assert code == 0, err
        assert "mlcycle: warning: services is ignored" in err
        assert "mlcycle: warning: identity is ignored" in err
        assert "environment_variables" not in err  # those are honoured
        run = until(lambda: cli.json("job", "show", "-n", json.loads(out)["name"]),
                    lambda r: r["status"] in ("Completed", "Failed"))
        assert "greeting=hello world" in run["log_tail"]
        assert "services is ignored" in run["log_tail"]  # the warnings open the job's log too

    def test_a_compute_with_settings_it_cannot_honour_is_warned_of(self, cli, tmp_path):
        spec = write(tmp_path / "compute.yml", "\n".join([
            "$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json",
            "name: warned-cluster", "type: amlcompute", "size: Standard_DS3_v2",
            "location: westeurope", "max_instances: 1",
            "ssh_settings:", "  admin_username: azureuser", "  admin_password: Not-A-Secret-1",
            ""]))

        code, _, err = cli("compute", "create", "-f", spec)

        assert code == 0, err
        assert "mlcycle: warning: location is ignored" in err
        assert "mlcycle: warning: ssh_settings is ignored" in err


class TestDataPaths:
    def test_a_file_url_is_uploaded_like_a_local_path(self, cli, tmp_path):
        csv = write(tmp_path / "iris.csv", "a,b\n1,2\n")

        data = cli.json("data", "create", "--name", "from-file-url", "--path", csv.as_uri())

        assert (data["state"], data["type"]) == ("Registered", "uri_file")

    def test_a_datastore_path_names_files_in_the_local_blob_store(self, cli, host):
        host.container.blobs.put("workspaceblobstore/corpus/iris.csv", b"a,b\n1,2\n")

        data = cli.json("data", "create", "--name", "from-datastore", "--type", "uri_file",
                        "--path", "azureml://datastores/workspaceblobstore/paths/corpus/iris.csv")

        assert data["state"] == "Registered"

    def test_a_web_url_is_refused_saying_what_works(self, cli):
        code, _, err = cli("data", "create", "--name", "from-web", "--type", "uri_file",
                           "--path", "https://azuremlexamples.blob.core.windows.net/datasets/iris.csv")

        assert code == 1
        assert "does not download from the web" in err
        assert "azureml://datastores/workspaceblobstore/paths/<path>" in err
