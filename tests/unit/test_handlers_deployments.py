"""Accepting a deployment with a scoring script: its inline model registered anonymously
(once for the same files), its code snapshotted, its environment resolved."""
import json
from pathlib import Path

import pytest

from shared.domain.errors import InvalidSpec
from shared.domain.messages import RegisterModel
from shared.handlers.intake_assets import submit_endpoint
from shared.handlers.intake_deployments import submit_deployment
from shared.specs import load_spec

SAMPLE = Path(__file__).parents[1] / "corpus" / "azureml-examples" / "cli" / "endpoints" / "online"
BLUE = SAMPLE / "managed" / "sample" / "blue-deployment.yml"


def ports(container) -> dict:
    return {"blobs": container.blobs, "registry": container.registry, "bus": container.bus,
            "clock": container.clock}


@pytest.fixture
def endpoint(container):
    submit_endpoint(load_spec(SAMPLE / "managed" / "sample" / "endpoint.yml"),
                    key="endpoint", **ports(container))
    return "my-endpoint"


def submitted(container, spec, key: str) -> dict:
    return submit_deployment(spec, key=key, all_traffic=True, **ports(container))


def model_registrations(container) -> list[RegisterModel]:
    return [e.message for e in container.bus.events() if isinstance(e.message, RegisterModel)]


def test_the_sample_s_inline_model_is_registered_once_as_version_1_of_its_content(
        container, endpoint):
    spec = load_spec(BLUE, root=SAMPLE)
    first = submitted(container, spec, "first")
    second = submitted(container, spec, "second")
    assert first["model"] == second["model"] and len(first["model"]) == 64
    assert first["model_ref"] == {"version": "1", "label": None}
    [registration] = model_registrations(container)
    # The folder keeps its name inside the version, as AZUREML_MODEL_DIR/model/... needs.
    assert container.blobs.list(registration.source) == [
        f"{registration.source}/model/sklearn_regression_model.pkl"]


def test_its_code_is_snapshotted_and_its_conda_packages_run_on_the_host_with_a_warning(
        container, endpoint):
    body = submitted(container, load_spec(BLUE, root=SAMPLE), "key")
    assert body["code"]["scoring_script"] == "score.py"
    assert container.blobs.exists(body["code"]["snapshot"])
    assert body["environment"]["kind"] == "image"
    [warning] = [w for w in body["warnings"] if "conda packages" in w]
    assert "numpy=2.3.1, scikit-learn=1.7.0, scipy=1.16.0" in warning


def test_a_conda_file_of_pip_packages_gets_a_venv_of_its_own(container, endpoint, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def init(): pass\ndef run(raw): return raw\n")
    (tmp_path / "model.txt").write_text("weights")
    (tmp_path / "conda.yml").write_text(
        "dependencies:\n  - python=3.11\n  - pip:\n    - tomli==2.0.1\n")
    (tmp_path / "d.yml").write_text(
        "name: tomli\nendpoint_name: my-endpoint\nmodel:\n  path: model.txt\n"
        "code_configuration:\n  code: src\n  scoring_script: score.py\n"
        "environment:\n  image: python:3.11\n  conda_file: conda.yml\n"
        "instance_type: Standard_DS3_v2\n")
    body = submitted(container, load_spec(tmp_path / "d.yml", kind="deployment"), "key")
    assert body["environment"]["kind"] == "venv"
    assert body["environment"]["pip"] == ["tomli==2.0.1"]


def test_a_named_inline_model_registered_with_other_files_is_refused(container, endpoint,
                                                                    tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def init(): pass\ndef run(raw): return raw\n")
    spec_text = ("name: named\nendpoint_name: my-endpoint\n"
                 "model:\n  name: weights\n  version: 7\n  path: model.json\n"
                 "code_configuration:\n  code: src\n  scoring_script: score.py\n"
                 "environment: azureml:AzureML-sklearn-1.5@latest\n"
                 "instance_type: Standard_DS3_v2\n")
    (tmp_path / "d.yml").write_text(spec_text)
    (tmp_path / "model.json").write_text(json.dumps({"scale": 1}))
    first = submitted(container, load_spec(tmp_path / "d.yml"), "one")
    assert first["model_ref"]["version"] == "7"
    (tmp_path / "model.json").write_text(json.dumps({"scale": 2}))
    with pytest.raises(InvalidSpec, match="weights:7 is already registered with other files"):
        submitted(container, load_spec(tmp_path / "d.yml"), "two")
