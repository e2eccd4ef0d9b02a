"""Azure ML's public example specs (tests/corpus/azureml-examples, MIT, see its NOTICE.md)
go through the real CLI against a real local host, as a new user would run them. Each
either completes, or is refused with a reason that names what mlcycle does not support,
or fails for a reason of its own that the manifest names (it needs CUDA, the web, a
package this host lacks); none may fail for a fault of mlcycle's."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from shared.localhost.host import LocalHost, write_config
from shared.settings import Settings
from tests.cli_runs import cli_for
from tests.corpus.data import make_data
from tests.corpus.examples import CorpusRun, command_of, load_manifest, tally

CORPUS = Path(__file__).parent / "azureml-examples"
SETUP, ENTRIES = load_manifest(CORPUS / "manifest.yml")
pytestmark = pytest.mark.e2e


def _phase(entry, root: Path) -> int:
    """Assets first (jobs use them), then jobs, then endpoints and their deployments."""
    group = command_of(entry, root)[0]
    return {"job": 1, "online-endpoint": 2, "online-deployment": 3}.get(group, 0)


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory):
    """Run every selected entry once, on one host; spec -> Outcome."""
    wanted = {item.callspec.params["entry"].spec for item in request.session.items
              if item.module is request.module and hasattr(item, "callspec")}
    top = tmp_path_factory.mktemp("corpus")
    root = top / "examples"
    shutil.copytree(CORPUS, root)  # jobs write outputs beside their specs; keep the repo clean
    values = {"data": str(make_data(top / "data")), "python": sys.executable}
    patch = pytest.MonkeyPatch()
    patch.setenv("PIP_NO_INDEX", "1")  # offline: a `pip install` ends the same everywhere
    with LocalHost(Settings(top / "mlcycle", retry_backoff_s=0.2)) as host:
        write_config(host.url, host.key, top / "home")
        cli = cli_for(top / "home", patch)
        for prefix, source in (SETUP.get("datastore") or {}).items():
            if (root / source).is_file():
                host.container.blobs.put(f"workspaceblobstore/{prefix}",
                                         (root / source).read_bytes())
            else:
                host.container.blobs.upload_dir(root / source, f"workspaceblobstore/{prefix}")
        for argv in SETUP.get("commands") or ():
            code, out, err = cli(*[str(a).format(**values) for a in argv])
            assert code == 0, f"setup {argv}: {err}"
        corpus = CorpusRun(cli, root, values)
        results, running = {}, {}
        for entry in sorted((e for e in ENTRIES if e.spec in wanted), key=lambda e: _phase(e, root)):
            if _phase(entry, root) == 2 and running:  # endpoints wait for the jobs
                results.update({e.spec: corpus.finish(e, r) for e, r in running.values()})
                running.clear()
            started = corpus.start(entry)
            if isinstance(started, str):
                running[entry.spec] = (entry, started)
            else:
                results[entry.spec] = started
        results.update({e.spec: corpus.finish(e, r) for e, r in running.values()})
        _print(request, tally(list(results.values())))
        yield results
    patch.undo()


def _print(request, text: str) -> None:
    """Show text whatever pytest captures (-q included): the tally is this test's report."""
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n" + text, flush=True)


@pytest.mark.parametrize("entry", [
    pytest.param(e, id=e.id, marks=[pytest.mark.slow] if e.slow else []) for e in ENTRIES])
def test_each_example_completes_or_is_refused_naming_what_is_unsupported(entry, outcomes):
    assert outcomes[entry.spec].problems() == []

