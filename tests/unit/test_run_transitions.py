"""Run status transitions on the real SQLite registry, when another writer changes the
run between the read and the write (an etag conflict, which `update` retries): what the
transition was given is applied on the retry as on the first try."""
from shared.adapters.sqlite_registry import SqliteRegistry
from shared.domain.runs import transition
from shared.domain.status import RunStatus
from shared.ports import Record

NODE_STARTED = "2026-03-01T10:00:00+00:00"
LATER = "2026-03-01T10:05:00+00:00"


class Clock:
    def now(self) -> str:
        return LATER


class OvertakenOnce:
    """The registry, where another writer updates a run once just before this one
    writes it, so that this write loses on its etag and is retried."""

    def __init__(self, registry: SqliteRegistry) -> None:
        self.registry, self.overtaken = registry, False

    def __getattr__(self, name):
        return getattr(self.registry, name)

    def put(self, record: Record, *, etag: str | None = None) -> Record:
        if not self.overtaken and record.kind == "run":
            self.overtaken = True
            current = self.registry.get("run", record.name)
            self.registry.put(Record("run", record.name, "", {**current.body, "seen": True}),
                              etag=current.etag)
        return self.registry.put(record, etag=etag)


def test_the_start_time_a_node_reported_survives_a_conflict_on_the_write(tmp_path):
    registry = SqliteRegistry(tmp_path / "registry.db")
    registry.put(Record("run", "r1", "", {"name": "r1", "status": "Starting",
                                          "status_history": []}), etag="")
    racing = OvertakenOnce(registry)

    transition(racing, "r1", RunStatus.RUNNING, Clock(), start_time=NODE_STARTED,
               exit_code=None)

    body = registry.get("run", "r1").body
    assert racing.overtaken and body["seen"]  # the conflict happened, the retry won
    assert (body["status"], body["start_time"]) == ("Running", NODE_STARTED)
    assert [h["status"] for h in body["status_history"]] == ["Running"]
