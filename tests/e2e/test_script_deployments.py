"""Scoring-script deployments (`code_configuration`) on a real local host: each version's
score.py runs in a server process of its own, with Azure ML's contract (init() once,
run(raw_data) per request, AZUREML_MODEL_DIR); what run() raises comes back as a JSON
error that names it; a new version serves only once it answers its health check, and
the one it replaces is stopped; processes go when a deployment is deleted or the host
stops, and come back (or are adopted) when the host starts again."""
import json

import pytest

from shared.domain.messages import DeployModel, Envelope
from shared.handlers.script_deployments import delete_deployment
from shared.localhost.host import LocalHost, write_config
from shared.settings import Settings
from tests.cli_runs import cli_for
from tests.processes import wait_for
from tests.scripted import (BROKEN_INIT, HANGING_RUN, create_endpoint, deployment_folder,
                            is_alive, scorer)

pytestmark = pytest.mark.e2e

def score(host, endpoint: str, body: dict, deployment: str | None = None) -> tuple[int, dict]:
    return scorer(host.url, host.key)(endpoint, body, deployment)


def servers_of(host, endpoint: str) -> dict[str, int]:
    """Instance id -> pid of the endpoint's running scoring servers."""
    serving = host.container.scripts.root
    return {i: pid for i, pid in host.container.scripts.running().items()
            if json.loads((serving / i / "instance.json").read_text())["endpoint"] == endpoint}


@pytest.fixture(scope="module")
def scripted(host, tmp_path_factory):
    """Endpoint `scripted` with deployment blue (scale 2), all traffic."""
    root = tmp_path_factory.mktemp("scripted")
    with pytest.MonkeyPatch.context() as patch:
        cli = cli_for(host.home, patch)
        create_endpoint(cli, root, "scripted")
        blue = cli.json("online-deployment", "create", "-f",
                        deployment_folder(root / "v1", endpoint="scripted"), "--all-traffic")
    assert blue["state"] == "Succeeded", blue.get("error")
    return root


def test_run_answers_with_the_model_from_azureml_model_dir_and_the_spec_s_variables(
        scripted, host):
    status, answer = score(host, "scripted", {"data": [[1, 2], [3, 4]]})
    assert status == 200, answer
    assert answer["sums"] == [6.0, 14.0]
    assert answer["greeting"] == "hello"
    _, again = score(host, "scripted", {"data": [[1]]})
    assert again["pid"] == answer["pid"] and again["calls"] == answer["calls"] + 1  # init once


def test_what_run_raises_comes_back_as_a_json_500_that_names_it(scripted, host):
    status, answer = score(host, "scripted", {"explode": True})
    assert status == 500
    assert answer["error"]["code"] == "ScoringScriptError"
    assert "run() raised ValueError: asked to explode" in answer["error"]["message"]
    status, answer = score(host, "scripted", {"data": [[5]]})
    assert (status, answer["sums"]) == (200, [10.0])  # and it goes on serving


def test_a_server_that_dies_while_scoring_answers_502_and_the_next_request_restarts_it(
        scripted, host):
    _, before = score(host, "scripted", {"data": [[1]]})
    status, answer = score(host, "scripted", {"die": True})
    assert status == 502 and answer["error"]["code"] == "ScoringServerError"
    wait_for(lambda: not is_alive(before["pid"]), 60, "the server's exit")
    status, after = score(host, "scripted", {"data": [[1]]})
    assert (status, after["sums"]) == (200, [2.0]) and after["pid"] != before["pid"]


def test_a_deploy_message_delivered_twice_starts_no_second_server(scripted, host):
    before = servers_of(host, "scripted")
    host.container.bus.publish(Envelope(DeployModel("scripted", "blue"), id="deploy-again",
                                        correlation_id="scripted"))
    host.join()
    assert servers_of(host, "scripted") == before


def test_a_version_whose_init_fails_leaves_the_old_one_serving(scripted, host, cli):
    _, before = score(host, "scripted", {"data": [[1]]})
    spec = deployment_folder(scripted / "broken", endpoint="scripted", score=BROKEN_INIT)
    code, _, err = cli("online-deployment", "create", "-f", spec)
    assert code != 0 and "init() raised RuntimeError: no model for you" in err
    dep = cli.json("online-endpoint", "show", "-n", "scripted")["deployments"][0]
    assert dep["state"] == "Failed" and dep["last_rollout"]["state"] == "Failed"
    assert "init() raised RuntimeError: no model for you" in dep["last_rollout"]["error"]
    status, after = score(host, "scripted", {"data": [[1]]})
    assert (status, after["pid"], after["sums"]) == (200, before["pid"], [2.0])


def test_a_new_version_replaces_the_old_one_whose_server_is_stopped(scripted, host, cli):
    old = servers_of(host, "scripted")
    spec = deployment_folder(scripted / "v2", endpoint="scripted", scale=3.0)
    assert cli.json("online-deployment", "create", "-f", spec)["state"] == "Succeeded"
    host.join()  # the roll-out stops the old server once traffic goes to the new one
    status, answer = score(host, "scripted", {"data": [[1, 1]]})
    assert (status, answer["sums"]) == (200, [6.0])
    now = servers_of(host, "scripted")
    assert len(now) == 1 and set(now) != set(old)
    assert not any(is_alive(pid) for pid in old.values())


def test_the_traffic_header_reaches_a_second_scripted_deployment(scripted, host, cli):
    spec = deployment_folder(scripted / "green", endpoint="scripted", name="green", scale=10.0)
    assert cli.json("online-deployment", "create", "-f", spec)["state"] == "Succeeded"
    assert score(host, "scripted", {"data": [[1]]}, deployment="green")[1]["sums"] == [10.0]
    assert score(host, "scripted", {"data": [[1]]})[1]["sums"] == [3.0]  # blue keeps it all


def test_a_run_that_does_not_answer_in_time_gets_a_504_that_says_so(scripted, host, cli):
    spec = deployment_folder(scripted / "slow", endpoint="scripted", name="slow",
                             score=HANGING_RUN,
                             extra="request_settings:\n  request_timeout_ms: 1000\n")
    assert cli.json("online-deployment", "create", "-f", spec)["state"] == "Succeeded"
    status, answer = score(host, "scripted", {"data": [[1]]}, deployment="slow")
    assert status == 504
    assert answer["error"] == {"code": "ScoringTimeout",
                               "message": "deployment slow: run() did not answer within 1 s"}
    delete_deployment("scripted", "slow", registry=host.container.registry,
                      scripts=host.container.scripts)


def test_deleting_a_deployment_stops_its_server(scripted, host, cli):
    green = {i: p for i, p in servers_of(host, "scripted").items()
             if json.loads((host.container.scripts.root / i / "instance.json").read_text())
             ["deployment"] == "green"}
    assert len(green) == 1
    delete_deployment("scripted", "green", registry=host.container.registry,
                      scripts=host.container.scripts)
    assert not any(is_alive(pid) for pid in green.values())
    shown = cli.json("online-endpoint", "show", "-n", "scripted")
    assert [d["name"] for d in shown["deployments"]] == ["blue"]
    assert shown["traffic"] == {"blue": 100}


def test_a_stopped_host_stops_its_servers_and_the_next_one_starts_them(tmp_path, monkeypatch):
    settings = Settings(tmp_path / "data", retry_backoff_s=0.2)
    with LocalHost(settings) as first:
        write_config(first.url, first.key, tmp_path / "home")
        cli = cli_for(tmp_path / "home", monkeypatch)
        create_endpoint(cli, tmp_path, "restarts")
        cli.json("online-deployment", "create", "-f",
                 deployment_folder(tmp_path / "v1", endpoint="restarts"), "--all-traffic")
        _, answer = score(first, "restarts", {"data": [[1]]})
    assert not is_alive(answer["pid"])
    with LocalHost(settings) as second:
        status, again = score(second, "restarts", {"data": [[2]]})
    assert (status, again["sums"]) == (200, [4.0])
    assert again["pid"] != answer["pid"] and not is_alive(again["pid"])
