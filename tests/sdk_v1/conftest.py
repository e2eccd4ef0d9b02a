"""One real local host for the SDK v1 tests (SQLite bus and registry, local processes,
HTTP), a Workspace read from the config.json it wrote, and the digits as MNIST's files."""
import pytest

from shared.localhost.host import LocalHost, write_config
from shared.settings import Settings
from tests.cli_runs import cli_for
from tests.sdk_v1.digits_files import write_mnist_like


@pytest.fixture(scope="session")
def host(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlcycle-v1")
    with LocalHost(Settings(root / "data", retry_backoff_s=0.2)) as local:
        local.home = root / "home"
        local.config = write_config(local.url, local.key, local.home)
        yield local


@pytest.fixture(scope="session")
def ws(host):
    """`Workspace.from_config()` on the config.json `mlcycle up` would write."""
    from azureml.core import Workspace

    return Workspace.from_config(path=str(host.config))


@pytest.fixture(scope="session")
def digits_folder(tmp_path_factory):
    """train-images-idx3-ubyte.gz and friends, local files in place of the guides' URLs."""
    return write_mnist_like(tmp_path_factory.mktemp("digits") / "mnist")


@pytest.fixture
def cli(host, monkeypatch):
    """Run `mlcycle ARGS` in process against the host; returns (exit code, stdout, stderr)."""
    return cli_for(host.home, monkeypatch)

