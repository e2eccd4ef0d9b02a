"""Every failure is one `mlcycle: ` line on stderr, never a traceback."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from shared.cli.client import NO_CONFIG
from shared.cli.main import main
from tests.unit.test_cli_fakeapi import KEY, Answer, api  # noqa: F401


def one_line(err: str) -> str:
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("mlcycle: ")
    return err.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_server_error_becomes_its_code_and_message(api, capsys):
    api.on("GET", "/api/jobs/nope", Answer(404, {"error": {"code": "NotFound",
                                                           "message": "no run nope"}}))
    assert main(["job", "show", "-n", "nope"]) == 1
    assert one_line(capsys.readouterr().err) == "mlcycle: NotFound: no run nope"


def test_a_refused_key_says_so_without_showing_it(api, capsys):
    api.on("GET", "/api/jobs", Answer(401, {"error": {"code": "Unauthorized", "message": "x"}}))
    assert main(["job", "list"]) == 1
    captured = capsys.readouterr()
    assert one_line(captured.err) == "mlcycle: the API key was refused"
    assert KEY not in captured.err + captured.out


def test_an_unreachable_server_asks_whether_mlcycle_up_runs(tmp_path, monkeypatch, capsys):
    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLCYCLE_HOME", str(tmp_path))
    monkeypatch.setenv("MLCYCLE_ENDPOINT", endpoint)
    monkeypatch.setenv("MLCYCLE_KEY", "k")
    assert main(["job", "list"]) == 1
    assert one_line(capsys.readouterr().err) == (
        f"mlcycle: cannot reach {endpoint}: is `mlcycle up` running?")


def test_no_config_says_to_run_mlcycle_up(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLCYCLE_HOME", str(tmp_path))
    monkeypatch.delenv("MLCYCLE_ENDPOINT", raising=False)
    monkeypatch.delenv("MLCYCLE_KEY", raising=False)
    assert main(["model", "list"]) == 1
    assert one_line(capsys.readouterr().err) == f"mlcycle: {NO_CONFIG}"


def test_environment_overrides_the_config_file(api, tmp_path, monkeypatch, capsys):
    (tmp_path / "home" / "config.json").write_text(json.dumps(
        {"endpoint": "http://127.0.0.1:1", "key": "stale"}))
    monkeypatch.setenv("MLCYCLE_ENDPOINT", api.endpoint + "/")
    monkeypatch.setenv("MLCYCLE_KEY", "fresh")
    api.on("GET", "/api/computes", Answer(200, {"value": []}))
    assert main(["compute", "list"]) == 0
    assert api.requests[0].headers["x-functions-key"] == "fresh"


def test_a_missing_spec_file_is_one_line(api, tmp_path, capsys):
    assert main(["job", "create", "-f", str(tmp_path / "nope.yml")]) == 1
    assert one_line(capsys.readouterr().err).startswith("mlcycle: spec file not found")


def test_a_missing_referenced_path_is_one_line(api, tmp_path, capsys):
    (tmp_path / "job.yml").write_text("code: ./src\ncommand: python x.py\n")
    assert main(["job", "create", "-f", str(tmp_path / "job.yml")]) == 1
    assert "./src" in one_line(capsys.readouterr().err)
    assert api.requests == []


def test_a_bad_set_value_is_a_usage_error(capsys):
    assert main(["job", "create", "-f", "job.yml", "--set", "novalue"]) == 2
    assert "expected key=value" in capsys.readouterr().err


def test_the_cli_imports_nothing_heavy():
    code = ("import sys, shared.cli.main; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'azure', 'yaml', 'tarfile', 'urllib3', 'requests')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert out.stdout.strip() == "[]"


def test_up_hands_its_options_to_the_local_host(monkeypatch):
    import types

    calls = []
    host = types.ModuleType("shared.localhost.host")
    host.serve = lambda **kw: calls.append(kw)
    monkeypatch.setitem(sys.modules, "shared.localhost.host", host)
    assert main(["up", "--port", "8123", "--data-root", "/tmp/d"]) == 0
    assert calls == [{"host": "127.0.0.1", "port": 8123, "data_root": "/tmp/d"}]


def test_demo_returns_the_demo_exit_code(monkeypatch):
    import types

    demo = types.ModuleType("shared.demo")
    demo.main = lambda **kw: 3 if kw == {"port": 9000} else 0
    monkeypatch.setitem(sys.modules, "shared.demo", demo)
    assert main(["demo", "--port", "9000"]) == 3
