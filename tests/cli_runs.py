"""Running `mlcycle ARGS` in process, as the tests of the CLI against a real host do."""
import contextlib
import io
import json


def run_mlcycle(*argv) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `mlcycle ARGS`; a SystemExit is its code."""
    from shared.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def cli_for(home, monkeypatch):
    """`run(*argv)` against the host whose config is in `home`: (code, stdout, stderr);
    `run.json(*argv)` asserts success and parses stdout."""
    monkeypatch.setenv("MLCYCLE_HOME", str(home))
    monkeypatch.delenv("MLCYCLE_ENDPOINT", raising=False)
    monkeypatch.delenv("MLCYCLE_KEY", raising=False)

    def run_json(*argv):
        code, out, err = run_mlcycle(*argv)
        assert code == 0, err
        return json.loads(out)

    def run(*argv):
        return run_mlcycle(*argv)

    run.json = run_json
    return run
