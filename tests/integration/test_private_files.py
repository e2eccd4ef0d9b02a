"""What a local host creates is its user's alone, even under a umask that would give it
to everyone: the home (the key, the TLS key) and the data root are 0700, the SQLite
files of the bus and the registry (and their WAL and shared-memory files) and the
config are 0600. A real host runs on a fresh home, a message goes through its bus and a
record into its registry, so that SQLite has made every file it makes."""
import os
import stat

import pytest

from shared.domain.messages import Envelope, JobCompleted
from shared.localhost.client_config import write_config
from shared.localhost.host import LocalHost
from shared.ports import Record
from shared.settings import Settings


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def permissive_umask():
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_a_new_home_and_data_root_are_private_under_a_permissive_umask(tmp_path,
                                                                      permissive_umask):
    home = tmp_path / "fresh" / "home"
    data = home / "data"
    with LocalHost(Settings(data), tls_home=home) as local:
        config = write_config(local.url, local.key, home)
        local.container.bus.publish(Envelope(JobCompleted("r1"), correlation_id="r1"))
        local.container.registry.put(Record("compute", "cpu", "", {"name": "cpu"}))
        local.container.blobs.put("specs/job.yml", b"command: echo\n")
        databases = [p for p in data.iterdir() if ".sqlite" in p.name]

        assert {p.name for p in databases} >= {"bus.sqlite", "bus.sqlite-wal",
                                               "registry.sqlite", "registry.sqlite-wal"}
        for folder in (tmp_path / "fresh", home, data, data / "blobs"):
            assert mode(folder) == 0o700, folder
        for file in (*databases, config, data / "blobs" / "specs" / "job.yml"):
            assert mode(file) == 0o600, file
        keys = [p for p in home.rglob("*key*") if p.is_file()]
        assert keys and all(mode(key) == 0o600 for key in keys)
