"""A real local host per test module: SQLite bus and registry, local processes, HTTP."""
import pytest

from shared.localhost.host import LocalHost, write_config
from shared.settings import Settings
from tests.cli_runs import cli_for


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlcycle")
    with LocalHost(Settings(root / "data", retry_backoff_s=0.2)) as local:
        local.home = root / "home"
        write_config(local.url, local.key, local.home)
        yield local


@pytest.fixture
def cli(host, monkeypatch):
    """Run `mlcycle ARGS` in process against the host; returns (exit code, stdout, stderr)."""
    return cli_for(host.home, monkeypatch)
