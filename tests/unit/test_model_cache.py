"""The worker's cache of converted models (used where the blob store has no local files,
as on Azure): a copy cut short never takes the model's name, so the next reader
downloads the whole model instead of serving half of one for good.

The copy is cut short for real: a worker process whose file size limit (RLIMIT_FSIZE)
is below the model's size, as a full disk stops a write half-way."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from shared.adapters.local_blob import LocalBlobStore
from shared.serving.model_cache import onnx_file

MODEL = "models/iris/1/onnx/model.onnx"
LIMIT = 4096
WORKER = f"""
import resource, sys
from pathlib import Path
sys.path.insert(0, {str(Path(__file__).parents[2])!r})
from shared.adapters.local_blob import LocalBlobStore
from shared.serving.model_cache import onnx_file

class Remote(LocalBlobStore):
    def local_path(self, path):
        return None

store = Remote(Path(sys.argv[1]))
resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, {LIMIT}))
onnx_file(store, {MODEL!r})
"""


class Remote(LocalBlobStore):
    """A store whose blobs are not files on this machine."""

    def local_path(self, path):
        return None


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_a_copy_cut_short_is_not_served_and_the_next_reader_gets_the_whole_model(
        tmp_path, cache_dir):
    store = Remote(tmp_path / "blobs")
    model = os.urandom(64 * 1024)
    store.put(MODEL, model)

    worker = subprocess.run([sys.executable, "-B", "-c", WORKER, str(store.root)],
                            env={**os.environ, "TMPDIR": str(cache_dir)},
                            capture_output=True, text=True, timeout=120)
    assert worker.returncode != 0 and "File too large" in worker.stderr  # cut short

    assert onnx_file(store, MODEL).read_bytes() == model
    leftovers = [p for p in cache_dir.rglob("*") if p.is_file() and p.name != "model.onnx"]
    assert leftovers == []


def test_a_cached_copy_is_reused_and_a_local_blob_is_read_in_place(tmp_path, cache_dir):
    remote = Remote(tmp_path / "remote")
    remote.put(MODEL, b"onnx bytes")
    first = onnx_file(remote, MODEL)
    remote.delete(MODEL)
    assert onnx_file(remote, MODEL) == first and first.read_bytes() == b"onnx bytes"

    local = LocalBlobStore(tmp_path / "local")
    local.put(MODEL, b"here")
    assert onnx_file(local, MODEL) == local.root / MODEL
