"""An endpoint's traffic split and mirror follow Azure ML's rules, and a mirrored copy
never reaches the caller: it is scored in the background and only counted."""
import threading
import time

import pytest

from shared.api import mirror
from shared.api.replies import Reply
from shared.domain.errors import InvalidSpec
from shared.handlers.online_endpoints import (
    delete_deployment,
    delete_endpoint,
    set_traffic,
)
from shared.ports import Record


@pytest.fixture
def registry(container):
    registry = container.registry
    registry.put(Record("endpoint", "iris", "", {"name": "iris", "traffic": {}}))
    for name in ("blue", "green", "red"):
        registry.put(Record("deployment", f"iris/{name}", "",
                            {"name": name, "endpoint": "iris", "model": "m"}))
    return registry


def test_a_split_is_stored_without_its_zero_shares(registry):
    body = set_traffic("iris", {"blue": 90, "green": 10, "red": 0}, None, registry=registry)
    assert body["traffic"] == {"blue": 90, "green": 10}


@pytest.mark.parametrize("traffic, reason", [
    ({"blue": 90, "green": 5}, "adds up to 95"),
    ({"blue": 90, "nosuch": 10}, "names deployment 'nosuch', which it does not have"),
    ({"blue": 100.5}, "a share is a whole number of percent from 0 to 100"),
    ({"blue": "lots"}, "a share is a whole number"),
    ({"blue": True}, "a share is a whole number"),
    ({"blue": 150, "green": -50}, "a share is a whole number"),
])
def test_a_split_azure_ml_would_refuse_is_refused_and_changes_nothing(registry, traffic,
                                                                       reason):
    set_traffic("iris", {"blue": 100}, None, registry=registry)
    with pytest.raises(InvalidSpec, match=reason):
        set_traffic("iris", traffic, None, registry=registry)
    assert registry.get("endpoint", "iris").body["traffic"] == {"blue": 100}


@pytest.mark.parametrize("traffic, shadow, reason", [
    ({"blue": 100}, {"green": 51}, "at most 50 percent is mirrored"),
    ({"blue": 100}, {"green": 10, "red": 10}, "mirrored to one deployment only"),
    ({"blue": 90, "green": 10}, {"green": 10}, "would take live traffic and mirrored"),
])
def test_a_mirror_azure_ml_would_refuse_is_refused(registry, traffic, shadow, reason):
    with pytest.raises(InvalidSpec, match=reason):
        set_traffic("iris", traffic, shadow, registry=registry)


def test_a_split_alone_may_not_send_live_traffic_to_the_mirror(registry):
    set_traffic("iris", {"blue": 100}, {"green": 10}, registry=registry)
    with pytest.raises(InvalidSpec, match="'green' would take live traffic"):
        set_traffic("iris", {"blue": 90, "green": 10}, None, registry=registry)
    body = set_traffic("iris", {"blue": 90, "green": 10}, {}, registry=registry)
    assert (body["traffic"], body["mirror_traffic"]) == ({"blue": 90, "green": 10}, {})


def test_what_a_request_leaves_out_stays_as_it_is(registry):
    set_traffic("iris", {"blue": 100}, {"green": 10}, registry=registry)
    body = set_traffic("iris", None, {"red": 20}, registry=registry)
    assert (body["traffic"], body["mirror_traffic"]) == ({"blue": 100}, {"red": 20})


def test_a_deleted_deployment_is_neither_routed_to_nor_mirrored_to(registry):
    set_traffic("iris", {"blue": 100}, {"green": 10}, registry=registry)
    delete_deployment("iris", "green", registry=registry, scripts=None)
    body = registry.get("endpoint", "iris").body
    assert (body["traffic"], body["mirror_traffic"]) == ({"blue": 100}, {})
    assert registry.get("deployment", "iris/green") is None


def test_a_deleted_endpoint_takes_its_deployments_with_it(registry):
    delete_endpoint("iris", registry=registry, scripts=None)
    assert registry.get("endpoint", "iris") is None
    assert registry.list("deployment") == []
    delete_endpoint("iris", registry=registry, scripts=None)  # again: nothing left to do


def settled(registry, deployment):
    """The mirror's counts once every copy sent has ended (bounded wait)."""
    deadline = time.monotonic() + 60
    while True:
        seen = mirror.counts(registry, "iris", deployment)
        if seen["sent"] == seen["answered"] + seen["failed"] + seen["dropped"] \
                or time.monotonic() > deadline:
            return seen
        time.sleep(0.01)


def test_every_copy_drawn_is_scored_in_the_background(registry):
    scored, caller = [], threading.current_thread()

    def send(deployment):
        scored.append((deployment, threading.current_thread() is caller))
        return Reply(200, [0])
    for _ in range(20):
        mirror.mirror(registry, "iris", {"green": 100}, send)
    seen = settled(registry, "green")
    assert (seen["sent"], seen["answered"], seen["failed"]) == (20, 20, 0)
    assert scored == [("green", False)] * 20


def test_a_copy_that_fails_is_counted_with_its_reason_and_raises_nowhere(registry):
    def refuse(deployment):
        return Reply(400, {"error": {"code": "BadRequest", "message": "wrong shape"}})

    def crash(deployment):
        raise RuntimeError("scorer gone")
    mirror.mirror(registry, "iris", {"red": 100}, refuse)
    assert settled(registry, "red")["last_error"] == "400: wrong shape"
    mirror.mirror(registry, "iris", {"red": 100}, crash)
    seen = settled(registry, "red")
    assert (seen["sent"], seen["failed"], seen["last_error"]) == (2, 2,
                                                                  "RuntimeError: scorer gone")


def test_no_copy_is_drawn_for_a_zero_share(registry):
    mirror.mirror(registry, "iris", {"blue": 0}, lambda d: pytest.fail("copied"))
    assert mirror.counts(registry, "iris", "blue")["sent"] == 0
