"""The Registry contract: SqliteRegistry and TableRegistry (on Azurite) behave alike."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.domain.errors import Conflict, PermanentError
from shared.domain.records import update
from shared.ports import Record


class TestRecords:
    def test_a_record_round_trips_with_a_new_etag_each_write(self, registry):
        first = registry.put(Record("model", "m", "1", {"state": "Registering"}))
        second = registry.put(Record("model", "m", "1", {"state": "Registered"}))
        assert first.etag and second.etag and first.etag != second.etag
        stored = registry.get("model", "m", "1")
        assert (stored.body, stored.etag) == ({"state": "Registered"}, second.etag)

    def test_a_missing_record_is_none(self, registry):
        assert registry.get("model", "never", "1") is None

    def test_a_record_without_version_is_its_own_record(self, registry):
        registry.put(Record("endpoint", "e", "", {"unversioned": True}))
        registry.put(Record("endpoint", "e", "1", {"unversioned": False}))
        assert registry.get("endpoint", "e").body == {"unversioned": True}
        assert registry.get("endpoint", "e", "1").body == {"unversioned": False}

    def test_names_with_characters_table_keys_forbid_round_trip(self, registry):
        for name in ("a/b", "back\\slash", "hash#tag", "what?", "tilde~7E", "colon:x", "tab\t"):
            registry.put(Record("data", name, "v/1", {"name": name}))
            assert registry.get("data", name, "v/1").body == {"name": name}
        assert registry.get("data", "a", "b/v/1") is None

    def test_a_stale_etag_is_refused(self, registry):
        stale = registry.put(Record("run", "r", "", {"n": 1}))
        registry.put(Record("run", "r", "", {"n": 2}), etag=stale.etag)
        with pytest.raises(Conflict):
            registry.put(Record("run", "r", "", {"n": 3}), etag=stale.etag)
        assert registry.get("run", "r").body == {"n": 2}

    def test_an_etag_for_a_record_that_does_not_exist_is_refused(self, registry):
        other = registry.put(Record("run", "elsewhere", "", {}))
        with pytest.raises(Conflict):
            registry.put(Record("run", "r", "", {}), etag=other.etag)

    def test_create_only_refuses_an_existing_record(self, registry):
        registry.put(Record("endpoint", "e", "", {"first": True}), etag="")
        with pytest.raises(Conflict):
            registry.put(Record("endpoint", "e", "", {"first": False}), etag="")
        assert registry.get("endpoint", "e").body == {"first": True}

    def test_delete_removes_a_record_and_ignores_a_missing_one(self, registry):
        registry.put(Record("compute", "cpu", "", {}))
        registry.delete("compute", "cpu")
        registry.delete("compute", "never")
        assert registry.get("compute", "cpu") is None

    def test_a_body_beyond_one_table_property_round_trips(self, registry):
        body = {"metrics": [{"step": i, "loss": 1 / (i + 1)} for i in range(5000)]}
        registry.put(Record("run", "long", "", body))
        assert registry.get("run", "long").body == body

    def test_list_filters_on_a_field_and_follows_its_changes(self, registry):
        registry.put(Record("run", "a", "", {"compute": "gpu", "status": "Running"}))
        registry.put(Record("run", "b", "", {"compute": "cpu", "status": "Running"}))
        registry.put(Record("run", "c", "", {"compute": "gpu", "status": "Completed"}))
        registry.put(Record("run", "d", "", {"compute": 7}))  # not a string: never matches
        assert [r.name for r in registry.list("run", where={"compute": "gpu"})] == ["a", "c"]
        assert [r.name for r in registry.list(
            "run", where={"compute": "gpu", "status": "Running"})] == ["a"]
        update(registry, "run", "a", "", lambda b: b.update(status="Completed"))
        assert registry.list("run", where={"compute": "gpu", "status": "Running"}) == []
        assert [r.name for r in registry.list("run", where={"status": "Completed"})] == ["a", "c"]
        assert registry.list("model", where={"status": "Running"}) == []

    def test_list_refuses_a_field_it_cannot_filter_on(self, registry):
        with pytest.raises(ValueError, match="cannot filter records on owner"):
            registry.list("run", where={"owner": "me"})

    def test_concurrent_read_modify_writes_lose_no_update(self, registry):
        registry.put(Record("run", "r", "", {"count": 0}))

        def bump():
            for _ in range(10):
                update(registry, "run", "r", "", lambda b: b.update(count=b["count"] + 1),
                       attempts=200)

        threads = [threading.Thread(target=bump) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert registry.get("run", "r").body["count"] == 40


class TestListing:
    def test_list_keeps_insertion_order_across_updates(self, registry):
        for name in ("zeta", "alpha", "mid"):
            registry.put(Record("model", name, "1", {}))
        registry.put(Record("model", "zeta", "1", {"updated": True}))
        assert [r.name for r in registry.list("model")] == ["zeta", "alpha", "mid"]

    def test_list_by_name_returns_that_name_only(self, registry):
        registry.put(Record("model", "m", "2", {}))
        registry.put(Record("model", "m", "1", {}))
        registry.put(Record("model", "mm", "1", {}))
        registry.put(Record("data", "m", "1", {}))
        assert [(r.name, r.version) for r in registry.list("model", "m")] == [("m", "2"),
                                                                             ("m", "1")]

    def test_list_by_kind_returns_that_kind_only(self, registry):
        registry.put(Record("run", "r1", "", {}))
        registry.put(Record("runs", "r2", "", {}))
        registry.put(Record("model", "r3", "", {}))
        listed = registry.list("run")
        assert [(r.kind, r.name) for r in listed] == [("run", "r1")]
        assert listed[0].etag == registry.get("run", "r1").etag


class TestVersions:
    def test_the_same_key_always_gets_the_same_version(self, registry):
        assert registry.allocate_version("model", "m", "k1") == "1"
        assert registry.allocate_version("model", "m", "k2") == "2"
        assert registry.allocate_version("model", "m", "k1") == "1"
        assert registry.allocate_version("model", "other", "k1") == "1"
        assert registry.allocate_version("data", "m", "k1") == "1"

    def test_explicit_versions_join_the_sequence(self, registry):
        assert registry.reserve_version("model", "m", "5", "a")
        assert not registry.reserve_version("model", "m", "5", "b")
        assert registry.reserve_version("model", "m", "5", "a")  # same key: idempotent
        assert registry.allocate_version("model", "m", "c") == "6"

    def test_a_key_that_holds_a_version_cannot_reserve_another(self, registry):
        assert registry.allocate_version("model", "m", "a") == "1"
        assert not registry.reserve_version("model", "m", "7", "a")
        assert registry.allocate_version("model", "m", "b") == "2"

    def test_a_version_already_allocated_cannot_be_reserved(self, registry):
        registry.allocate_version("model", "m", "a")
        registry.reserve_version("model", "m", "9", "b")
        assert not registry.reserve_version("model", "m", "1", "c")  # "a" has it
        assert registry.allocate_version("model", "m", "d") == "10"

    def test_allocating_versions_adds_no_records(self, registry):
        registry.allocate_version("model", "m", "a")
        registry.reserve_version("model", "m", "3", "b")
        assert registry.list("model") == [] and registry.list("model", "m") == []

    def test_named_versions_need_no_reservation(self, registry):
        assert registry.reserve_version("data", "d", "2024-01-v1", "a")
        assert registry.reserve_version("data", "d", "2024-01-v1", "b")

    def test_concurrent_allocations_never_collide(self, registry):
        with ThreadPoolExecutor(8) as pool:
            versions = list(pool.map(
                lambda i: registry.allocate_version("model", "m", f"k{i}"), range(48)))
        assert sorted(map(int, versions)) == list(range(1, 49))

    def test_two_hosts_allocating_and_reserving_never_collide(self, open_registry):
        hosts = [open_registry(), open_registry()]

        def register(i):
            host = hosts[i % 2]
            if i % 5 == 0:
                return str(i) if host.reserve_version("model", "m", str(i), f"k{i}") else None
            return host.allocate_version("model", "m", f"k{i}")

        with ThreadPoolExecutor(6) as pool:
            versions = [v for v in pool.map(register, range(1, 31)) if v is not None]
        assert len(versions) == len(set(versions))
        again = [hosts[0].allocate_version("model", "m", f"k{i}")
                 for i in range(1, 31) if i % 5]
        assert set(again) <= set(versions)


class TestTableStorageLimits:
    def test_a_body_beyond_one_entity_is_refused_clearly(self, registry, azure_only):
        with pytest.raises(PermanentError, match="blob"):
            registry.put(Record("run", "huge", "", {"blob": "x" * 600_000}))
        assert registry.get("run", "huge") is None
