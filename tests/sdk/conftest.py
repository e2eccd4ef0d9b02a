"""azure-ai-ml itself, unchanged, against a real local host over HTTPS: the host serves
TLS with the certificate it made, and the SDK is pointed at it only by the settings
azureml.env exports (its cloud metadata URL, the cloud's name, the CA bundle)."""
import time
from pathlib import Path

import numpy as np
import pytest
from azure.ai.ml import Input, command
from azure.core.credentials import AccessToken
from sklearn.datasets import load_iris

from shared.localhost.client_config import write_config, write_sdk_env
from shared.localhost.host import LocalHost
from shared.settings import Settings


HERE = Path(__file__).parent
TERMINAL = ("Completed", "Failed", "Canceled")


class MlcycleKey:
    """A TokenCredential whose token is mlcycle's key, as docs/sdk.md has users write."""

    def __init__(self, key: str) -> None:
        self.key = key

    def get_token(self, *scopes, **kwargs) -> AccessToken:
        return AccessToken(self.key, int(time.time()) + 3600)


def exported(env_file: Path) -> dict[str, str]:
    """The variables `source azureml.env` would set."""
    import shlex

    found = {}
    for line in env_file.read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export "):].partition("=")
            found[name] = shlex.split(value)[0]
    return found


@pytest.fixture(scope="package")
def sdk_host(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlcycle-sdk")
    home = root / "home"
    with LocalHost(Settings(root / "data", retry_backoff_s=0.2), tls_home=home) as local:
        local.home = home
        local.config = write_config(local.url, local.key, home)
        local.sdk_env = write_sdk_env(local.tls_url, local.tls, home)
        yield local


@pytest.fixture(scope="package")
def ml_client(sdk_host):
    """An MLClient built as a user builds one, from config.json, with the environment
    azureml.env exports. azure-ai-ml keeps the clouds it has read for the life of the
    process, so a cloud of the same name from an earlier host is forgotten first."""
    from azure.ai.ml import MLClient
    from azure.ai.ml import _azure_environments

    with pytest.MonkeyPatch.context() as patch:
        for name, value in exported(sdk_host.sdk_env).items():
            patch.setenv(name, value)
        _azure_environments._environments.pop("mlcycle", None)
        yield MLClient.from_config(MlcycleKey(sdk_host.key), path=str(sdk_host.config))
        _azure_environments._environments.pop("mlcycle", None)


def wait_for(predicate, timeout: float = 240.0, interval: float = 0.5):
    """Poll until predicate() is truthy (its value is returned); bounded, never timed."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(interval)


@pytest.fixture(scope="package")
def iris_csv(tmp_path_factory) -> Path:
    iris = load_iris()
    path = tmp_path_factory.mktemp("iris") / "iris.csv"
    table = np.column_stack([iris.data, iris.target])
    np.savetxt(path, table, delimiter=",", header="a,b,c,d,label", comments="", fmt="%g")
    return path


@pytest.fixture(scope="package")
def trained(ml_client, iris_csv):
    """One command job, submitted and streamed as a notebook does: (job name, streamed text)."""
    import contextlib
    import io

    job = command(code=str(HERE / "src"), command="python train.py --data ${{inputs.iris}}",
                  inputs={"iris": Input(type="uri_file", path=str(iris_csv))},
                  environment="AzureML-sklearn-1.5@latest", display_name="iris-sgd",
                  experiment_name="sdk-tests")
    submitted = ml_client.jobs.create_or_update(job)
    streamed = io.StringIO()
    with contextlib.redirect_stdout(streamed):
        ml_client.jobs.stream(submitted.name)
    return submitted.name, streamed.getvalue()
