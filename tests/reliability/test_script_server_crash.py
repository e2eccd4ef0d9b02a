"""A real `mlcycle up` SIGKILLed around a scoring-script deployment: its servers outlive
it and the next host adopts the one a deployment serves, stops the ones nothing serves,
and finishes the roll-out the dead host had started (its deploy message delivered
again)."""
import json
import os
import signal

import pytest

from tests.processes import wait_for
from tests.reliability.crash_host import Host
from tests.scripted import create_endpoint, deployment_folder, is_alive, scorer

pytestmark = pytest.mark.e2e


class Cli:
    """A `cli_for`-shaped runner over Host.cli, for tests.scripted."""

    def __init__(self, up: Host) -> None:
        self.json = up.cli


def score(up: Host, body: dict) -> tuple[int, dict]:
    return scorer(up.endpoint, up.key)("crash", body)


def server_pids(up: Host) -> dict[str, int]:
    """Instance id -> the pid its server wrote, for every instance folder there is."""
    found = {}
    for described in (up.data / "serving").glob("*/server.json"):
        found[described.parent.name] = json.loads(described.read_text())["pid"]
    return found


def serving(up: Host) -> bool:
    """Whether blue's roll-out has ended with blue taking the traffic."""
    endpoint = up.get("endpoints/crash")
    return endpoint["deployments"][0]["state"] == "Succeeded" and endpoint["traffic"] == {"blue": 100}


@pytest.fixture
def up(tmp_path):
    host = Host(tmp_path)
    yield host
    host.stop()
    # Whatever the test left running: only servers of this data root, by their own pid.
    for pid in server_pids(host).values():
        if is_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_host_that_died_leaves_its_server_serving_and_the_next_one_adopts_it(up, tmp_path):
    up.start()
    create_endpoint(Cli(up), tmp_path, "crash")
    up.cli("online-deployment", "create", "-f",
           deployment_folder(tmp_path / "v1", endpoint="crash"), "--all-traffic")
    status, before = score(up, {"data": [[1]]})
    assert status == 200, before
    up.kill()
    assert is_alive(before["pid"])
    up.start()
    status, after = score(up, {"data": [[1]]})
    assert (status, after["pid"], after["sums"]) == (200, before["pid"], [2.0])
    up.stop()
    assert not is_alive(before["pid"])


def test_a_server_started_but_never_promoted_is_stopped_and_the_roll_out_finished(
        up, tmp_path):
    up.start(pause_at="deploy:started")
    create_endpoint(Cli(up), tmp_path, "crash")
    up.cli("online-deployment", "create", "-f",
           deployment_folder(tmp_path / "v1", endpoint="crash"), "--all-traffic", "--no-wait")
    up.paused()
    [stray] = server_pids(up).values()
    up.kill()
    up.start()
    assert not is_alive(stray)  # nothing served it: the new host stopped it at start
    wait_for(lambda: serving(up), 180, "the redelivered deploy")
    status, answer = score(up, {"data": [[1]]})
    assert (status, answer.get("sums")) == (200, [2.0]) and answer["pid"] != stray


def test_a_host_killed_after_promoting_a_version_stops_the_old_one_and_adopts_the_new(
        up, tmp_path):
    up.start()
    create_endpoint(Cli(up), tmp_path, "crash")
    up.cli("online-deployment", "create", "-f",
           deployment_folder(tmp_path / "v1", endpoint="crash"), "--all-traffic")
    up.stop()
    up.start(pause_at="deploy:promoted")
    _, old = score(up, {"data": [[1]]})  # v1's server, started again by this host
    up.cli("online-deployment", "create", "-f",
           deployment_folder(tmp_path / "v2", endpoint="crash", scale=3.0), "--no-wait")
    up.paused()
    new = {i: p for i, p in server_pids(up).items() if p != old["pid"]}
    [new_pid] = new.values()
    up.kill()
    up.start()
    assert not is_alive(old["pid"])  # v1 is served by nothing now
    status, answer = score(up, {"data": [[1]]})
    assert (status, answer["sums"], answer["pid"]) == (200, [3.0], new_pid)  # adopted
    wait_for(lambda: serving(up), 180, "the redelivered deploy")
