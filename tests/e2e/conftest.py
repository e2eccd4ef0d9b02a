"""A real local host per test module: SQLite bus and registry, local processes, HTTP."""
import contextlib
import io
import json

import pytest

from shared.localhost.host import LocalHost, write_config
from shared.settings import Settings


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
    from shared.cli.main import main

    monkeypatch.setenv("MLCYCLE_HOME", str(host.home))
    monkeypatch.delenv("MLCYCLE_ENDPOINT", raising=False)
    monkeypatch.delenv("MLCYCLE_KEY", raising=False)

    def run(*argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in argv])
            except SystemExit as exc:
                code = exc.code
        return code, out.getvalue(), err.getvalue()

    def run_json(*argv):
        code, out, err = run(*argv)
        assert code == 0, err
        return json.loads(out)

    run.json = run_json
    return run
