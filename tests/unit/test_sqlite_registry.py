"""SqliteRegistry: records, etags and version allocation."""
import threading
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import get_context

import pytest

from shared.adapters.sqlite_registry import SqliteRegistry
from shared.domain.errors import Conflict
from shared.domain.records import update
from shared.ports import Record


@pytest.fixture
def registry(tmp_path):
    return SqliteRegistry(tmp_path / "registry.sqlite")


def test_a_record_round_trips_with_a_new_etag_each_write(registry):
    first = registry.put(Record("model", "m", "1", {"state": "Registering"}))
    second = registry.put(Record("model", "m", "1", {"state": "Registered"}))
    assert first.etag != second.etag
    assert registry.get("model", "m", "1").body == {"state": "Registered"}


def test_a_stale_etag_is_refused(registry):
    stale = registry.put(Record("run", "r", "", {"n": 1}))
    registry.put(Record("run", "r", "", {"n": 2}), etag=stale.etag)
    with pytest.raises(Conflict):
        registry.put(Record("run", "r", "", {"n": 3}), etag=stale.etag)
    assert registry.get("run", "r").body == {"n": 2}


def test_create_only_refuses_an_existing_record(registry):
    registry.put(Record("endpoint", "e", "", {}), etag="")
    with pytest.raises(Conflict):
        registry.put(Record("endpoint", "e", "", {}), etag="")


def test_the_same_key_always_gets_the_same_version(registry):
    assert registry.allocate_version("model", "m", "k1") == "1"
    assert registry.allocate_version("model", "m", "k2") == "2"
    assert registry.allocate_version("model", "m", "k1") == "1"
    assert registry.allocate_version("model", "other", "k1") == "1"


def test_explicit_versions_join_the_sequence(registry):
    assert registry.reserve_version("model", "m", "5", "a")
    assert not registry.reserve_version("model", "m", "5", "b")
    assert registry.reserve_version("model", "m", "5", "a")  # same key: idempotent
    assert registry.allocate_version("model", "m", "c") == "6"


def test_concurrent_registrations_of_one_name_never_collide(registry, tmp_path):
    with ThreadPoolExecutor(8) as pool:
        versions = list(pool.map(lambda i: registry.allocate_version("model", "m", f"k{i}"),
                                 range(100)))
    assert sorted(map(int, versions)) == list(range(1, 101))


def _allocate_many(path, prefix, out):
    reg = SqliteRegistry(path)
    out.put([reg.allocate_version("model", "m", f"{prefix}{i}") for i in range(30)])


def test_concurrent_processes_never_collide(tmp_path):
    path = tmp_path / "registry.sqlite"
    SqliteRegistry(path)
    ctx = get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_allocate_many, args=(path, p, out)) for p in "abc"]
    for p in procs:
        p.start()
    got = [v for _ in procs for v in out.get(timeout=60)]
    for p in procs:
        p.join(30)
    assert sorted(map(int, got)) == list(range(1, 91))


def test_update_retries_until_its_write_wins(registry):
    registry.put(Record("run", "r", "", {"count": 0}))

    def bump():
        for _ in range(25):
            update(registry, "run", "r", "", lambda b: b.update(count=b["count"] + 1))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert registry.get("run", "r").body["count"] == 100


def _write_records(path, count):
    reg = SqliteRegistry(path)
    for i in range(count):
        reg.put(Record("endpoint", f"e{i}", "", {"i": i}))
    reg.delete("endpoint", "e0")


def test_the_generation_moves_with_every_write_from_any_thread_or_process(tmp_path):
    # Scoring caches what it read until the generation moves: a write it missed would
    # leave an endpoint routing to a deployment that changed.
    path = tmp_path / "registry.sqlite"
    reader, writer = SqliteRegistry(path), SqliteRegistry(path)
    seen = reader.generation()
    assert reader.generation() == seen  # reading changes nothing
    writer.put(Record("endpoint", "e", "", {"traffic": {}}))
    assert reader.generation() != seen
    seen = reader.generation()
    threading.Thread(target=writer.delete, args=("endpoint", "e")).start()
    for _ in range(1000):
        if reader.generation() != seen:
            break
        threading.Event().wait(0.01)
    assert reader.generation() != seen
    before = reader.generation()
    ctx = get_context("spawn")
    procs = [ctx.Process(target=_write_records, args=(path, 20)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    # Three processes, 21 writes each, counted one by one: none lost to another.
    assert reader.generation() - before == 63
