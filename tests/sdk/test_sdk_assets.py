"""Models, data, computes and environments through azure-ai-ml: registered by the same
handlers as the CLI's (a model goes on to ONNX), read back in the SDK's own types."""
import joblib
import pytest
from azure.ai.ml.constants import AssetTypes
from azure.ai.ml.entities import AmlCompute, Data, Environment, Model
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.sdk.conftest import wait_for

pytestmark = pytest.mark.e2e
SETTLED = ("Converted", "ConversionFailed", "Failed", "Registered")


def state(asset) -> str:
    return asset.properties.get("mlcycle.state", "")


def test_a_model_registers_from_what_its_run_wrote_to_outputs_model(ml_client, trained):
    name, _ = trained
    model = ml_client.models.create_or_update(Model(
        name="iris-sgd", path=f"azureml://jobs/{name}/outputs/artifacts/paths/outputs/model/",
        type=AssetTypes.CUSTOM_MODEL, tags={"framework": "ScikitLearn"}))
    assert (model.name, model.version, model.job_name) == ("iris-sgd", "1", name)
    done = wait_for(lambda: (m := ml_client.models.get("iris-sgd", "1"))
                    and state(m) in ("Converted", "ConversionFailed", "Failed") and m)
    assert state(done) == "Converted", done.properties
    assert ml_client.models.get("iris-sgd", label="latest").version == "1"


def test_a_model_from_a_local_folder_is_uploaded_and_gets_the_next_version(
        ml_client, trained, sdk_host, tmp_path):
    run, _ = trained
    model_file = sdk_host.container.blobs.get(f"runs/{run}/outputs/model/model.pkl")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(model_file)
    assert joblib.load(folder / "model.pkl").predict([[5.1, 3.5, 1.4, 0.2]]).shape == (1,)
    first = ml_client.models.create_or_update(Model(
        name="iris-local", path=str(folder), tags={"framework": "ScikitLearn"}))
    second = ml_client.models.create_or_update(Model(
        name="iris-local", path=str(folder), tags={"framework": "ScikitLearn"}))
    assert (first.version, second.version) == ("1", "2")
    assert {m.version for m in ml_client.models.list("iris-local")} == {"1", "2"}


def test_a_model_path_the_run_never_wrote_is_refused_with_the_sdks_error(ml_client, trained):
    name, _ = trained
    with pytest.raises(HttpResponseError) as refused:
        ml_client.models.create_or_update(Model(
            name="nothing", path=f"azureml://jobs/{name}/outputs/artifacts/paths/outputs/nope/"))
    assert refused.value.status_code == 400
    assert f"job {name} has no output" in refused.value.message


def test_data_from_a_local_folder_registers_and_versions(ml_client, tmp_path):
    folder = tmp_path / "digits"
    folder.mkdir()
    (folder / "part-0.csv").write_text("x,y\n1,2\n")
    first = ml_client.data.create_or_update(Data(name="digits", path=str(folder),
                                                 type=AssetTypes.URI_FOLDER))
    (folder / "part-1.csv").write_text("x,y\n3,4\n")
    second = ml_client.data.create_or_update(Data(name="digits", path=str(folder),
                                                  type=AssetTypes.URI_FOLDER))
    assert (first.version, second.version) == ("1", "2")
    registered = wait_for(lambda: (d := ml_client.data.get("digits", "2"))
                          and state(d) in ("Registered", "Failed") and d)
    assert state(registered) == "Registered"
    assert "workspaceblobstore" in registered.path


def test_a_compute_is_created_listed_and_deleted(ml_client):
    created = ml_client.compute.begin_create_or_update(AmlCompute(
        name="gpu-burst", size="STANDARD_NC6", min_instances=0, max_instances=3,
        tier="low_priority", idle_time_before_scale_down=300)).result()
    assert (created.max_instances, created.tier, created.size) == (3, "low_priority",
                                                                  "STANDARD_NC6")
    assert "gpu-burst" in [c.name for c in ml_client.compute.list()]
    ml_client.compute.begin_delete("gpu-burst").result()
    with pytest.raises(ResourceNotFoundError):
        ml_client.compute.get("gpu-burst")


def test_an_environment_registers_and_curated_ones_exist(ml_client, tmp_path):
    conda = tmp_path / "conda.yml"
    conda.write_text("name: e\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n"
                     "    - scikit-learn\n")
    env = ml_client.environments.create_or_update(Environment(
        name="sk-env", image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04",
        conda_file=str(conda), description="scikit-learn on pip"))
    assert (env.name, env.version) == ("sk-env", "1")
    assert "scikit-learn" in str(ml_client.environments.get("sk-env", "1").conda_file)
    assert ml_client.environments.get("AzureML-sklearn-1.5", label="latest").version == "1"


def test_a_model_registers_from_a_named_output_of_its_run(ml_client, sdk_host):
    from azure.ai.ml import Output, command

    job = command(command="mkdir -p ${{outputs.model_dir}} && "
                          "echo weights > ${{outputs.model_dir}}/weights.txt",
                  outputs={"model_dir": Output(type=AssetTypes.URI_FOLDER)},
                  environment="AzureML-sklearn-1.5@latest")
    name = ml_client.jobs.create_or_update(job).name
    assert wait_for(lambda: (s := ml_client.jobs.get(name).status)
                    in ("Completed", "Failed", "Canceled") and s) == "Completed"
    model = ml_client.models.create_or_update(Model(
        name="from-named-output", path=f"azureml://jobs/{name}/outputs/model_dir/paths/",
        type=AssetTypes.CUSTOM_MODEL))
    assert model.version == "1"
    registered = wait_for(lambda: (m := ml_client.models.get("from-named-output", "1"))
                          and state(m) not in ("", "Registering") and m)
    assert state(registered) != "Failed", registered.properties
    files = sdk_host.container.blobs.list("models/from-named-output/1")
    assert [f.rsplit("/", 1)[-1] for f in files if not f.split("/")[3] == "onnx"] \
        == ["weights.txt"]
