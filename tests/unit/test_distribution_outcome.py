"""How a run of several nodes stands, from how each node stands."""
from shared.ports import NodeState
from shared.runner.outcome import combine

RUNNING = NodeState("running", started_at="t1")
SUCCEEDED = NodeState("exited", exit_code=0, started_at="t0", ended_at="t5")
CANCELED_PEER = NodeState("exited", exit_code=143, reason="canceled", started_at="t1",
                          ended_at="t4")


def failed(rank: int, code: int, ended_at: str = "t3") -> NodeState:
    return NodeState("exited", exit_code=code, failed_rank=rank, started_at="t1",
                     ended_at=ended_at)


def test_a_run_runs_while_any_node_does_and_nothing_has_gone_wrong():
    assert combine([(SUCCEEDED, ""), (RUNNING, "")]) == NodeState("running", started_at="t0")


def test_a_failed_node_beside_running_ones_is_reported_so_they_can_be_stopped():
    state = combine([(RUNNING, ""), (failed(3, 1), "t2")])

    assert (state.state, state.failed_rank, state.exit_code) == ("running", 3, 1)


def test_the_peers_stopped_after_a_failure_do_not_hide_it():
    state = combine([(CANCELED_PEER, ""), (failed(3, 1), "t2")])

    assert (state.state, state.failed_rank, state.exit_code, state.reason) == (
        "exited", 3, 1, "")
    assert (state.started_at, state.ended_at) == ("t1", "t4")


def test_the_failure_seen_first_is_blamed_whichever_node_ended_first():
    first, later = failed(3, 1, ended_at="t9"), failed(0, 134, ended_at="t3")

    assert combine([(later, "t2"), (first, "t1")]).failed_rank == 3


def test_a_timeout_outranks_a_cancel_and_all_succeeding_is_success():
    timed_out = NodeState("exited", exit_code=143, reason="timeout", ended_at="t3")

    assert combine([(CANCELED_PEER, ""), (timed_out, "")]).reason == "timeout"
    assert combine([(SUCCEEDED, ""), (SUCCEEDED, "")]).exit_code == 0


def test_a_node_not_yet_launched_makes_the_run_unknown():
    assert combine([(RUNNING, ""), (NodeState("unknown"), "")]).state == "unknown"
    assert combine([]).state == "unknown"
