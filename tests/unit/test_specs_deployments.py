"""Deployment specs with a scoring script (code_configuration), an environment and an
inline model: what converts, and what is refused with a reason."""
from pathlib import Path

import pytest

from shared.domain.errors import InvalidSpec
from shared.specs import load_spec
from shared.specs.types import AssetRef

SAMPLE = Path(__file__).parents[1] / "corpus" / "azureml-examples" / "cli" / "endpoints" / "online"
MANAGED = SAMPLE / "managed" / "sample"
SPEC = """$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: blue
endpoint_name: scored
model: azureml:scorer:3
code_configuration:
  code: ./src
  scoring_script: score.py
environment: azureml:AzureML-sklearn-1.5@latest
instance_type: Standard_DS3_v2
"""


def folder(tmp_path: Path, spec: str = SPEC, script: str = "score.py") -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / script).write_text("def init(): pass\ndef run(raw): return raw\n")
    (tmp_path / "model.pkl").write_bytes(b"weights")
    (tmp_path / "deployment.yml").write_text(spec)
    return tmp_path / "deployment.yml"


def refusal(path: Path, *overrides: str, root: Path | None = None) -> str:
    with pytest.raises(InvalidSpec) as caught:
        load_spec(path, overrides=list(overrides), root=root)
    return str(caught.value)


def test_azure_ml_s_sample_converts_with_its_inline_model_code_and_conda_file():
    spec = load_spec(MANAGED / "blue-deployment.yml", root=SAMPLE)
    assert spec.model is None
    assert spec.model_path == (SAMPLE / "model-1" / "model").resolve()
    assert spec.code == (SAMPLE / "model-1" / "onlinescoring").resolve()
    assert spec.scoring_script == "score.py"
    assert spec.environment == "inline"
    assert spec.environment_image == "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
    assert "scikit-learn=1.7.0" in spec.environment_conda["dependencies"]


def test_a_registry_environment_converts_to_its_name_and_label():
    spec = load_spec(MANAGED / "blue-deployment-with-curated-env.yml", root=SAMPLE)
    assert spec.environment == "sklearn-1.5@latest"


def test_a_registered_model_variables_and_a_timeout_convert(tmp_path):
    path = folder(tmp_path, SPEC + "environment_variables:\n  WORKERS: 2\n"
                  "request_settings:\n  request_timeout_ms: 3000\n")
    spec = load_spec(path)
    assert spec.model == AssetRef("scorer", version="3")
    assert spec.environment_variables == {"WORKERS": "2"}
    assert spec.request_timeout_ms == 3000


def test_an_inline_model_file_with_a_name_and_version_converts(tmp_path):
    spec = load_spec(folder(tmp_path), overrides=["model=null", "model.path=model.pkl",
                                                  "model.name=weights", "model.version=4"])
    assert (spec.model, spec.model_path) == (None, (tmp_path / "model.pkl").resolve())
    assert (spec.model_name, spec.model_version) == ("weights", "4")


def test_a_scoring_script_without_an_environment_is_refused(tmp_path):
    without = SPEC.replace("environment: azureml:AzureML-sklearn-1.5@latest\n", "")
    message = refusal(folder(tmp_path, without))
    assert "a scoring script needs an environment" in message


def test_an_environment_without_a_scoring_script_is_refused(tmp_path):
    message = refusal(folder(tmp_path), "code_configuration=null")
    assert "environment: a no-code deployment" in message


def test_a_scoring_script_missing_from_its_code_folder_is_refused(tmp_path):
    message = refusal(folder(tmp_path, script="other.py"))
    assert "scoring_script 'score.py' does not exist in './src'" in message


def test_a_scoring_script_outside_its_code_folder_is_refused(tmp_path):
    path = folder(tmp_path)
    (tmp_path / "escape.py").write_text("")
    message = refusal(path, "code_configuration.scoring_script=../escape.py")
    assert "is outside code_configuration.code" in message


def test_registered_code_is_refused(tmp_path):
    message = refusal(folder(tmp_path), "code_configuration.code=azureml:score-code:1")
    assert "code_configuration.code: must be a local folder" in message


def test_an_inline_model_outside_the_root_is_refused(tmp_path):
    inside = tmp_path / "inside"
    inside.mkdir()
    path = folder(inside)
    (tmp_path / "secret.pkl").write_bytes(b"")
    message = refusal(path, "model=null", "model.path=../secret.pkl", root=inside)
    assert "model.path '../secret.pkl' is outside the spec's folder" in message


def test_a_model_url_is_refused_as_an_inline_model(tmp_path):
    message = refusal(folder(tmp_path), "model=null", "model.path=https://example.org/m.pkl")
    assert "an inline model is a local file or folder" in message


def test_a_docker_build_context_is_refused(tmp_path):
    message = refusal(folder(tmp_path), "environment=null", "environment.build.path=.")
    assert "build (a Docker build context) is not supported" in message
