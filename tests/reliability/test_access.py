"""Access: every HTTP route but the health check wants the key, and without it every
path, known or not, gets the same 401 and nothing else; a run's environment and files
hold neither the key nor a connection string; the local server binds loopback only
unless told otherwise.

Routes are read from the FunctionApp's own registrations, so a route added later is
probed too."""
import json
import re
import secrets
import subprocess
import os
import sys
from pathlib import Path

import pytest

from shared.localhost.host import LocalHost
from shared.settings import Settings
from tests.reliability.ledger import record
from tests.reliability.state import differences, snapshot

ANONYMOUS = {"health"}
# Documents azure-ai-ml reads before it sends a key, as ARM's own are: public by design.
PUBLIC_DOCUMENTS = {"sdk_cloud_metadata", "sdk_discovery"}
# Anonymous to the Functions host, which cannot read a bearer token or a signed URL: the
# SDK door checks the key (or the signature) itself, and must refuse alike.
SELF_CHECKED = {"sdk_arm", "sdk_run_history", "sdk_storage"}
# The studio's pages check their own sign-in cookie (a browser following a link sends no
# key header): every path outside /api, and /api/studio/.
STUDIO = {"studio_home", "studio_page"}
STUDIO_PATHS = ["/", "/admin", "/runs", "/runs/probe", "/runs/probe/log",
                "/runs/probe/metrics.json", "/runs/probe/files/outputs/model.pkl",
                "/runs/probe/cancel", "/endpoints/probe/try", "/api/studio",
                "/api/studio/runs/probe", "/api/studio/computes/probe/history.json"]
BEARER_TAKEN = re.compile(r"^/api/(subscriptions|history|storage)/")
UNKNOWN_PATHS = ["/api/nope", "/api/jobs/x/y/z/w", "/api/", "/api/dead-letters",
                 "/api/../etc/passwd"]
LEAKS = re.compile(r"AccountKey=|SharedAccessKey=|Endpoint=sb://")


def http_triggers(host):
    return [t for t in host.triggers if t.kind == "httpTrigger"]


def concrete(route: str) -> str:
    """A path that matches a route template: each {param} a name, {*rest} a file."""
    path = re.sub(r"\{\*\w+\}", "outputs/probe.txt", route)
    return "/api/" + re.sub(r"\{\w+\}", "probe", path)


def probes(host):
    """(method, path) for every method of every keyed route, and for unknown paths."""
    found = [(m, concrete(t.route)) for t in http_triggers(host)
             if t.auth_level != "anonymous" or t.name in SELF_CHECKED for m in t.methods
             if m != "HEAD"]
    return found + [(m, p) for p in UNKNOWN_PATHS for m in ("GET", "POST", "DELETE", "PATCH")]


def bad_keys(host):
    """Ways to present no key or a wrong one: (headers, query) pairs."""
    near = host.key[:-1] + ("A" if host.key[-1] != "A" else "B")
    return [({}, ""), ({"x-functions-key": ""}, ""), ({"x-functions-key": "wrong"}, ""),
            ({"x-functions-key": near}, ""), ({"x-functions-key": host.key.upper()}, ""),
            ({"x-functions-key": host.key + " "}, ""), ({}, "?code=wrong"),
            ({"Authorization": f"Bearer {host.key}"}, "")]


def test_only_the_health_check_the_sdk_door_and_the_studio_are_anonymous(host):
    anonymous = {t.name for t in http_triggers(host) if t.auth_level == "anonymous"}
    allowed = ANONYMOUS | PUBLIC_DOCUMENTS | SELF_CHECKED | STUDIO
    record("access", "HTTP triggers registered without a key requirement",
           injected=len(http_triggers(host)), lost=len(anonymous - allowed),
           checked="auth level of every registered HTTP trigger")
    assert anonymous == allowed


def test_the_sdk_door_refuses_a_signed_url_for_another_container(host, api):
    from shared.arm.sas import READ, sign

    token = sign(host.key, "run-some_run", READ)
    answer = api("GET", f"/api/storage/workspaceblobstore/x.txt?{token}", key=False)
    assert answer.status == 403 and b"AuthenticationFailed" in answer.body


def test_without_the_key_every_path_gets_the_same_401_and_changes_nothing(host, api):
    before = snapshot(host.container, work=False)
    answers = {}
    for method, path in probes(host):
        for headers, query in bad_keys(host):
            if "Authorization" in headers and BEARER_TAKEN.match(path):
                continue  # the bearer key is the right one there: the SDK sends it so
            body = b'{"snapshot": "x", "spec_path": "job.yml"}' if method == "POST" else b""
            a = api(method, path + query, body=body, headers=headers, key=False)
            answers[(method, path, query, json.dumps(headers))] = (a.status, a.body)
    after = snapshot(host.container, work=False)
    bodies = {body for _, body in answers.values()}
    wrong = [k for k, (status, _) in answers.items() if status != 401]
    changed = [d for d in differences(before, after) if not d.startswith("bus ")]
    record("access", "requests with a missing or wrong key, on every route and unknown "
           "paths", injected=len(answers), lost=len(wrong) + len(changed)
           + (len(bodies) - 1), checked="status, body identical across routes, registry, "
                                        "blobs")
    assert not wrong, wrong[:5]
    assert len(bodies) == 1, bodies  # nothing tells a known route from an unknown one
    assert json.loads(bodies.pop()) == {"error": {"code": "Unauthorized",
                                                  "message": "a valid key is required"}}
    assert not changed, changed


def test_without_the_key_every_studio_page_goes_to_sign_in_and_nothing_else_answers(
        host, api):
    before = snapshot(host.container, work=False)
    answers = {}
    for path in STUDIO_PATHS:
        login = ("/api/studio" if path.startswith("/api/studio") else "") + "/login"
        for method in ("GET", "POST", "DELETE"):
            for headers, query in [*bad_keys(host), ({"Cookie": "mlcycle_studio=wrong"}, ""),
                                   ({"Cookie": f"mlcycle_studio={host.key}x"}, "")]:
                a = api(method, path + query, body=b"key=x" if method == "POST" else b"",
                        headers=headers, key=False)
                answers[(method, path, json.dumps(headers))] = (a.status, a.body,
                                                                a.headers.get("Location"))
                if method == "GET" and not path.endswith((".json", "/log")) \
                        and "/files/" not in path:
                    assert (a.status, a.headers.get("Location")) == (303, login), (path, a)
                else:  # a DELETE no studio route takes is refused as the API refuses it
                    assert a.status == 401, (method, path, a.status)
    refused = {body for (method, _, _), (status, body, _) in answers.items()
               if status == 401 and method != "DELETE"}
    record("access", "studio requests without the key or its cookie", injected=len(answers),
           lost=len(differences(before, snapshot(host.container, work=False))),
           checked="a redirect to sign in or one 401; registry and blobs unchanged")
    assert len(refused) == 1 and b"sign in to the studio" in refused.pop()
    assert not [d for d in differences(before, snapshot(host.container, work=False))
                if not d.startswith("bus ")]


def test_the_health_check_answers_without_a_key(api):
    answer = api("GET", "/api/health", key=False)
    assert (answer.status, answer.json()) == (200, {"status": "ok"})


ENV_SCRIPT = """import json, os
for name, value in sorted(os.environ.items()):
    print(f"{name}={value}")
os.makedirs("outputs", exist_ok=True)
json.dump(dict(os.environ), open("outputs/env.json", "w"))
"""


def test_a_run_sees_neither_the_key_nor_connection_strings(host, cli, api, tmp_path,
                                                             monkeypatch):
    # Fake secrets, made now, in the host's own environment, the way a developer's shell
    # or the Functions host would hold them.
    secret = secrets.token_hex(16)
    fakes = {
        "MLCYCLE_KEY": host.key,
        "AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountName=fake;"
                               f"AccountKey={secret}==;EndpointSuffix=core.windows.net",
        "ServiceBusConnection": "Endpoint=sb://fake.servicebus.windows.net/;"
                                f"SharedAccessKeyName=root;SharedAccessKey={secret}=",
        "SOME_TOOL_SETTING": f"Endpoint=sb://other.servicebus.windows.net/;"
                             f"SharedAccessKey={secret}",
        "MLCYCLE_ACCESS_PROBE": "inherited",  # harmless: proves the environment is passed on
    }
    for name, value in fakes.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "env.py").write_text(ENV_SCRIPT)
    (tmp_path / "job.yml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
        "code: ./src\ncommand: python env.py\n"
        "environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest\n"
        "experiment_name: access\n")
    run = cli.json("job", "create", "-f", tmp_path / "job.yml")
    code, out, err = cli("job", "stream", "-n", run["name"])
    shown = cli.json("job", "show", "-n", run["name"])

    texts = {}  # every file of the run, through the API, and every file of its node
    for name in api("GET", f"/api/jobs/{run['name']}/files").json()["value"]:
        texts[f"api:{name}"] = api("GET", f"/api/jobs/{run['name']}/files/{name}").body
    for path in host.settings.work_root.rglob("*"):
        if path.is_file() and run["name"] in str(path):
            texts[f"node:{path}"] = path.read_bytes()
    texts["cli:stream"] = out.encode()
    texts["api:show"] = json.dumps(shown).encode()
    leaked = sorted(where for where, data in texts.items()
                    if host.key.encode() in data or secret.encode() in data
                    or LEAKS.search(data.decode("utf-8", "replace")))
    env = json.loads(texts.get("api:outputs/env.json", b"{}"))
    record("access", "host key and fake connection strings in the host's environment "
           "while a job prints its whole environment", injected=len(fakes) - 1,
           lost=len(leaked), checked="run files and logs (API), node folder files, "
                                     "streamed log, run record")
    assert shown["status"] == "Completed", (code, err, shown.get("error"))
    assert env.get("MLCYCLE_ACCESS_PROBE") == "inherited" and "MLCYCLE_RUN_ID" in env
    assert "MLCYCLE_ACCESS_PROBE=inherited" in out  # the script's output was looked at
    assert not leaked, leaked
    assert not {"MLCYCLE_KEY", "AzureWebJobsStorage", "ServiceBusConnection",
                "SOME_TOOL_SETTING"} & set(env)


@pytest.mark.parametrize("address", ["::", "0.0.0.0", "192.0.2.10", "2001:db8::1",
                                     "example.com", "myhost", "[::1]", "::ffff:10.0.0.1"])
def test_the_local_host_refuses_other_addresses_than_loopback(address, tmp_path):
    # test_up covers `mlcycle up --host 0.0.0.0`; these are the forms it does not.
    try:
        LocalHost(Settings(tmp_path / "data"), host=address).stop()
        refusal = ""
    except ValueError as exc:
        refusal = str(exc)
    record("access", f"bind to {address} without --allow-remote", injected=1,
           lost=int("loopback" not in refusal), checked="refused before anything binds")
    assert "loopback" in refusal


def test_the_local_host_serves_on_ipv6_loopback(tmp_path):
    import urllib.request

    with LocalHost(Settings(tmp_path / "data"), host="::1") as local:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{local.url}/api/health", timeout=30) as resp:
            assert json.loads(resp.read()) == {"status": "ok"}


def test_mlcycle_up_refuses_an_ipv6_wildcard_without_the_flag(tmp_path):
    mlcycle = str(Path(sys.executable).parent / "mlcycle")
    done = subprocess.run(
        [mlcycle, "up", "--host", "::", "--port", "0", "--data-root", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "MLCYCLE_HOME": str(tmp_path / "home")})
    record("access", "`mlcycle up --host ::` without --allow-remote", injected=1,
           lost=int(done.returncode == 0), checked="exit code, message")
    assert done.returncode != 0 and "loopback" in done.stderr
    assert "Traceback" not in done.stderr
