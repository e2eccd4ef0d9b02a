"""A message that fails every time is dead-lettered after the queue's maximum deliveries
with its reason, does not hold up the messages behind it, and can be listed and
replayed through the CLI and the HTTP API.

The poison is real: a data asset registered through the CLI whose target in the blob
store is obstructed (a folder sits where its file must be written), so every delivery
of its data-register message fails with the storage's own error, as a full or
read-only disk would make it fail. Removing the obstruction fixes the cause."""
import json
import time

import pytest

from shared.cli import bundle, submit
from shared.cli.client import Client, Config
from shared.localhost.host import LocalHost, write_config
from shared.settings import Settings
from tests.reliability.ledger import record

QUEUE = "data-register"
MAX_DELIVERIES = 4
GOOD = 3


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    # Backoff 1 s: the poison's retries span 1 + 2 + 4 s, long enough that the good
    # messages sent behind it are done before it runs out of deliveries.
    root = tmp_path_factory.mktemp("poison")
    settings = Settings(root / "data", retry_backoff_s=1.0, max_deliveries=MAX_DELIVERIES)
    with LocalHost(settings) as local:
        local.home = root / "home"
        write_config(local.url, local.key, local.home)
        yield local


def wait_until(probe, timeout=120.0):
    """Poll probe() until it returns something truthy; returns the last value."""
    deadline = time.monotonic() + timeout
    while not (value := probe()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def data_folder(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "rows.csv").write_text(f"x,y\n1,{name}\n")
    return folder


def state_of(cli, name):
    code, out, _ = cli("data", "show", "-n", name, "-v", "1")
    return json.loads(out)["state"] if code == 0 else None


def post_data(host, name, folder):
    """`mlcycle data create` without its wait: the poison's registration takes all its
    retries, and the test wants to send the good ones meanwhile."""
    spec = {"$schema": "https://azuremlschemas.azureedge.net/latest/data.schema.json",
            "name": name, "version": "1", "type": "uri_folder", "path": str(folder)}
    return submit.submit_bundle(Client(Config(host.url, host.key)), "/api/data",
                                *bundle.bundle_generated_spec(spec))


def test_a_poison_message_is_dead_lettered_without_delaying_others_and_replays(
        host, cli, api, tmp_path):
    # The obstruction: the folder the asset's file must be copied to is taken.
    blocked = host.settings.blob_root / "datasets" / "poison" / "1" / "rows.csv"
    (blocked / "in-the-way").mkdir(parents=True)
    post_data(host, "poison", data_folder(tmp_path, "poison"))
    for i in range(GOOD):
        cli.json("data", "create", "-n", f"good-{i}", "-v", "1", "-t", "uri_folder",
                 "-p", data_folder(tmp_path, f"good-{i}"))

    goods_done = wait_until(lambda: all(state_of(cli, f"good-{i}") == "Registered"
                                        for i in range(GOOD)))
    # Observed when the last good one was done: the poison was still being retried.
    dead_when_goods_done = cli.json("dead-letter", "list", "--queue", QUEUE)
    poison_still_retrying = host.container.bus.pending(QUEUE) >= 1

    listed = wait_until(lambda: cli.json("dead-letter", "list", "--queue", QUEUE))
    from_api = api("GET", f"/api/dead-letters/{QUEUE}")
    # Given up on, the asset says so instead of staying Registering for good.
    _, shown, _ = cli("data", "show", "-n", "poison", "-v", "1")
    gave_up = json.loads(shown) if shown else {}
    letter = listed[0] if listed else {}
    reason = letter.get("reason", "")

    # Replaying an unknown id or queue is a clear 404, and changes nothing.
    unknown = api("POST", f"/api/dead-letters/{QUEUE}/no-such-message/replay")
    unknown_queue = api("POST", f"/api/dead-letters/no-such-queue/{letter.get('id')}/replay")
    code, _, err = cli("dead-letter", "replay", "--queue", QUEUE, "--id", "no-such-message")
    still_listed = cli.json("dead-letter", "list", "--queue", QUEUE)

    # Fix the cause, then replay by the CLI: the asset gets registered.
    (blocked / "in-the-way").rmdir()
    blocked.rmdir()
    replayed = cli.json("dead-letter", "replay", "--queue", QUEUE, "--id", letter.get("id"))
    fixed = wait_until(lambda: state_of(cli, "poison") == "Registered")
    left = cli.json("dead-letter", "list", "--queue", QUEUE)

    problems = [p for p, bad in [
        ("good messages behind the poison were not all registered", not goods_done),
        ("the poison was dead-lettered before the good ones were done",
         bool(dead_when_goods_done) or not poison_still_retrying),
        ("the poison was not dead-lettered exactly once", len(listed or []) != 1),
        ("the reason does not name the cause", "IsADirectoryError" not in reason
         or "MaxDeliveryCountExceeded" not in reason),
        ("deliveries before dead-lettering", letter.get("delivery_count") != MAX_DELIVERIES),
        ("the given-up asset is not Failed with the reason", gave_up.get("state") != "Failed"
         or "IsADirectoryError" not in (gave_up.get("error") or {}).get("message", "")),
        ("the API lists otherwise than the CLI", from_api.status != 200
         or from_api.json()["value"] != listed),
        ("unknown id not a 404 naming it", unknown.status != 404
         or "no-such-message" not in unknown.json()["error"]["message"]),
        ("unknown queue not a 404", unknown_queue.status != 404),
        ("the CLI did not refuse the unknown id", code == 0 or "NotFound" not in err),
        ("a refused replay changed the dead letters", still_listed != listed),
        ("replay did not answer for the message", replayed[0].get("id") != letter.get("id")),
        ("the replayed message did not succeed once fixed", not fixed),
        ("the replayed message is still dead-lettered", left != []),
    ] if bad]
    record("poison", "data-register message whose blob target is obstructed: fails every "
           f"delivery, {GOOD} good messages sent behind it", injected=1, lost=len(problems),
           checked="dead letters (CLI, API), reason, delivery count, good assets' state, "
                   "replay of unknown and fixed messages")
    assert not problems, problems
    assert letter["type"] == "RegisterData" and letter["correlation_id"] == "poison"
