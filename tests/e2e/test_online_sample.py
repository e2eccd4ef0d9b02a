"""Azure ML's managed online sample (`cli/endpoints/online/managed/sample`, copied as it is
into tests/corpus/azureml-examples with its licence), deployed as written through the real CLI against a
real local host: its inline model is registered anonymously, its score.py runs in a
server of its own, and its sample request answers what scikit-learn gives for the same
rows."""
import json
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest

from tests.cli_runs import cli_for

pytestmark = pytest.mark.e2e

SAMPLE = Path(__file__).parents[1] / "corpus" / "azureml-examples" / "cli" / "endpoints" / "online"
MANAGED = SAMPLE / "managed" / "sample"
REQUEST = MANAGED / "sample-request.json"
MODEL_FILE = SAMPLE / "model-1" / "model" / "sklearn_regression_model.pkl"


def sklearn_predictions(rows: list) -> list[float]:
    """What the sample's model predicts for rows, in this process. It was pickled by
    scikit-learn 0.24; today's still loads that LinearRegression (and says so)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = joblib.load(MODEL_FILE)
    return model.predict(np.array(rows)).tolist()


def is_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def deployed(cli, spec: Path) -> dict:
    return cli.json("online-deployment", "create", "-f", spec, "--all-traffic")


def invoke(cli) -> list[float]:
    return cli.json("online-endpoint", "invoke", "-n", "my-endpoint", "--request-file", REQUEST)


@pytest.fixture(scope="module")
def blue(host):
    """The sample's endpoint and blue deployment, created as its README says."""
    with pytest.MonkeyPatch.context() as patch:
        cli = cli_for(host.home, patch)
        endpoint = cli.json("online-endpoint", "create", "-f", MANAGED / "endpoint.yml")
        return endpoint, deployed(cli, MANAGED / "blue-deployment.yml")


def test_the_sample_deploys_as_written(blue):
    endpoint, deployment = blue
    assert endpoint["name"] == "my-endpoint"
    assert deployment["state"] == "Succeeded", deployment.get("error")
    assert deployment["code"]["scoring_script"] == "score.py"
    # Its conda file lists numpy and scikit-learn as conda packages: it runs on the
    # host's packages, and says so.
    assert any("conda packages" in w for w in deployment["warnings"])


def test_its_sample_request_answers_what_scikit_learn_gives(blue, cli):
    rows = json.loads(REQUEST.read_text())["data"]
    answer = invoke(cli)
    assert answer == pytest.approx(sklearn_predictions(rows), rel=1e-9)
    assert len(answer) == len(rows) == 2


def test_its_inline_model_is_registered_anonymously_as_version_1(blue, cli):
    _, deployment = blue
    model = cli.json("model", "show", "-n", deployment["model"], "-v", "1")
    assert model["version"] == "1" and model["state"] in ("Registered", "Converted",
                                                           "ConversionFailed")
    assert len(deployment["model"]) == 64  # named after its content, as Azure ML does


def test_the_curated_environment_variant_rolls_blue_over_and_stops_the_old_server(
        blue, cli, host):
    _, first = blue
    old = host.container.scripts.running()
    assert list(old) == [first["serving"]["id"]]
    second = deployed(cli, MANAGED / "blue-deployment-with-curated-env.yml")
    assert second["state"] == "Succeeded", second.get("error")
    assert second["serving"]["id"] != first["serving"]["id"]
    assert second["environment"]["kind"] == "curated"
    rows = json.loads(REQUEST.read_text())["data"]
    assert invoke(cli) == pytest.approx(sklearn_predictions(rows), rel=1e-9)
    host.join()  # the roll-out stops the old server after it routed traffic to the new
    assert list(host.container.scripts.running()) == [second["serving"]["id"]]
    assert not any(is_alive(pid) for pid in old.values())
