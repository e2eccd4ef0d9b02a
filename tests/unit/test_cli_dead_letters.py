"""`mlcycle dead-letter ...` against a fake API."""
from __future__ import annotations

import json

from shared.cli.main import main
from tests.unit.test_cli_fakeapi import Answer, api  # noqa: F401

LETTERS = [{"id": "m-1", "type": "RegisterData", "reason": "MaxDeliveryCountExceeded: x"},
           {"id": "m/2", "type": "RegisterData", "reason": "InvalidSpec: y"}]


def replayed(request):
    return Answer(202, {"queue": "data-register", "id": request.path.split("/")[-2],
                        "status": "Replayed"})


def test_list_prints_the_queue_s_dead_letters(api, capsys):
    api.on("GET", "/api/dead-letters/data-register", Answer(200, {"value": LETTERS}))
    assert main(["dead-letter", "list", "--queue", "data-register"]) == 0
    assert json.loads(capsys.readouterr().out) == LETTERS


def test_replay_posts_one_message_by_its_id(api, capsys):
    api.on("POST", "/api/dead-letters/data-register/m-1/replay", replayed)
    assert main(["dead-letter", "replay", "--queue", "data-register", "--id", "m-1"]) == 0
    [call] = api.requests
    assert (call.method, call.path) == ("POST", "/api/dead-letters/data-register/m-1/replay")
    assert json.loads(capsys.readouterr().out)[0]["status"] == "Replayed"


def test_replay_all_replays_every_listed_message_once(api, capsys):
    api.on("GET", "/api/dead-letters/data-register", Answer(200, {"value": LETTERS}))
    for path in ("m-1", "m%2F2"):  # an id is one path segment, escaped
        api.on("POST", f"/api/dead-letters/data-register/{path}/replay", replayed)
    assert main(["dead-letter", "replay", "--queue", "data-register", "--all"]) == 0
    posts = [r.path for r in api.requests if r.method == "POST"]
    assert posts == ["/api/dead-letters/data-register/m-1/replay",
                     "/api/dead-letters/data-register/m%2F2/replay"]


def test_replaying_an_unknown_id_fails_with_the_server_s_reason(api, capsys):
    api.on("POST", "/api/dead-letters/deploy/nope/replay", Answer(404, {"error": {
        "code": "NotFound", "message": "no dead letter nope on queue deploy"}}))
    assert main(["dead-letter", "replay", "--queue", "deploy", "--id", "nope"]) != 0
    assert "NotFound: no dead letter nope on queue deploy" in capsys.readouterr().err


def test_replay_wants_an_id_or_all(api, capsys):
    assert main(["dead-letter", "replay", "--queue", "deploy"]) != 0
    assert "--id" in capsys.readouterr().err and api.requests == []
