"""The scaling policy on its own: a pure function of a pool, its busy nodes, its waiting
runs and the time."""
from datetime import datetime, timedelta, timezone
from itertools import product

import pytest

from shared.domain.pools import PoolState, decide

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def pool(least=0, most=2, current=0, idle_s=120, since=None) -> PoolState:
    return PoolState(least, most, current, idle_s, since)


CASES = {
    # name: (pool, busy, waiting, now) -> (target, admit, idle nodes, idle since)
    "an empty pool scales up to the runs that fit":
        ((pool(most=2), [], [("a", 1), ("b", 1), ("c", 1)], at(0)),
         (2, ("a", "b"), 0, None)),
    "a full pool holds, and the next run waits":
        ((pool(most=2, current=2), [1, 1], [("c", 1)], at(0)), (2, (), 0, None)),
    "a run that does not fit stops the runs behind it":
        ((pool(most=4, current=1), [1], [("a", 2), ("b", 2), ("c", 1)], at(0)),
         (3, ("a",), 0, None)),
    "a larger run waits for nodes running runs still hold":
        ((pool(most=3, current=2), [2], [("a", 2)], at(0)), (2, (), 0, None)),
    "nodes left idle are kept, and the idle clock starts":
        ((pool(most=2, current=2), [], [], at(0)), (2, (), 2, at(0))),
    "idle nodes are kept until the idle time has passed":
        ((pool(most=2, current=2, since=at(0)), [], [], at(119)), (2, (), 2, at(0))),
    "idle nodes go once the idle time has passed":
        ((pool(most=2, current=2, since=at(0)), [], [], at(120)), (0, (), 0, None)),
    "scaling down stops at min_instances":
        ((pool(least=1, most=3, current=3, since=at(0)), [], [], at(500)), (1, (), 1, None)),
    "an empty pool is raised to min_instances":
        ((pool(least=1, most=3), [], [], at(0)), (1, (), 1, None)),
    "a pool above a lowered max_instances sheds the excess at once":
        ((pool(most=2, current=3), [], [], at(0)), (2, (), 2, at(0))),
    "demand that fills the pool again stops the idle clock":
        ((pool(most=2, current=2, since=at(0)), [1], [("a", 1)], at(60)),
         (2, ("a",), 0, None)),
    "one idle node of two starts the idle clock":
        ((pool(most=2, current=2), [1], [], at(30)), (2, (), 1, at(30))),
    "no idle time means idle nodes go at once":
        ((pool(most=2, current=2, idle_s=0), [1], [], at(0)), (1, (), 0, None)),
    "runs on a busy pool above its minimum are not scaled away":
        ((pool(least=0, most=4, current=4, since=at(0)), [2, 2], [], at(999)),
         (4, (), 0, None)),
}


@pytest.mark.parametrize("given, expected", CASES.values(), ids=CASES.keys())
def test_the_policy_decides(given, expected):
    decision = decide(*given)
    assert (decision.target_nodes, decision.admit, decision.idle_nodes,
            decision.idle_since) == expected


def test_a_run_larger_than_the_pool_is_refused_and_blocks_nobody():
    decision = decide(pool(most=2), [], [("big", 3), ("a", 1)], at(0))
    assert decision.refuse == ("big",)
    assert decision.admit == ("a",)


def test_every_resize_says_why():
    up = decide(pool(most=2), [], [("a", 1), ("b", 1)], at(0))
    assert up.reason == "scale up 0 -> 2: 2 node(s) in use, 0 run(s) waiting"
    minimum = decide(pool(least=1), [], [], at(0))
    assert minimum.reason == "scale up 0 -> 1: min_instances is 1"
    held = decide(pool(current=2, since=at(0)), [], [], at(60))
    assert held.reason == (f"hold 2: 2 node(s) idle since {at(0)}; "
                           "scale down after 120 s idle")
    down = decide(pool(current=2, since=at(0)), [], [], at(120))
    assert down.reason == "scale down 2 -> 0: idle for 120 s; 0 node(s) in use, 0 run(s) waiting"
    capped = decide(pool(most=2, current=3, idle_s=600), [], [], at(0))
    assert capped.reason == "scale down 3 -> 2: max_instances is 2"


def test_the_target_never_leaves_min_and_max_nor_admits_beyond_max():
    for least, most, current, busy, sizes, later in product(
            range(3), range(1, 4), range(5), ([], [1], [2], [1, 1]),
            ([], [1], [2, 1], [1, 1, 1]), (0, 1000)):
        if least > most or sum(busy) > most:
            continue
        waiting = [(f"r{i}", n) for i, n in enumerate(sizes)]
        state = pool(least, most, current, 120, at(0))
        decision = decide(state, busy, waiting, at(later))
        assert least <= decision.target_nodes <= most
        assert decision.busy_nodes <= decision.target_nodes
        admitted = [n for run_id, n in waiting if run_id in decision.admit]
        assert sum(busy) + sum(admitted) <= most
        could_fit = [r for r, n in waiting if n <= most]
        assert list(decision.admit) == could_fit[:len(decision.admit)]  # no overtaking
        assert decision.refuse == tuple(r for r, n in waiting if n > most)
