"""LocalBlobStore: atomic files under the data root."""
import os

import pytest

from shared.adapters.local_blob import LocalBlobStore
from shared.domain.errors import NotFound, PermanentError


@pytest.fixture
def blobs(tmp_path):
    return LocalBlobStore(tmp_path / "blobs")


def test_put_get_list_and_delete(blobs):
    blobs.put("runs/r1/outputs/a.txt", b"a")
    blobs.put("runs/r1/outputs/sub/b.txt", b"b")
    assert blobs.get("runs/r1/outputs/a.txt") == b"a"
    assert blobs.list("runs/r1") == ["runs/r1/outputs/a.txt", "runs/r1/outputs/sub/b.txt"]
    blobs.delete("runs/r1/outputs/a.txt")
    assert not blobs.exists("runs/r1/outputs/a.txt")


def test_a_missing_blob_is_not_found(blobs):
    with pytest.raises(NotFound):
        blobs.get("models/none/1/model.pkl")


def test_paths_cannot_escape_the_root(blobs):
    with pytest.raises(PermanentError):
        blobs.put("runs/../../etc/passwd", b"x")


def test_a_failed_write_leaves_the_old_file_whole(blobs, monkeypatch):
    blobs.put("models/m/1/model.pkl", b"old")

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        blobs.put("models/m/1/model.pkl", b"new" * 1000)
    monkeypatch.undo()
    assert blobs.get("models/m/1/model.pkl") == b"old"
    assert blobs.list("models/m/1") == ["models/m/1/model.pkl"]  # no temp file left


def test_folders_upload_and_download(blobs, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.csv").write_text("1")
    (src / "sub" / "b.csv").write_text("2")
    blobs.upload_dir(src, "datasets/d/1")
    blobs.download("datasets/d/1", tmp_path / "out")
    assert (tmp_path / "out" / "sub" / "b.csv").read_text() == "2"
    blobs.download("datasets/d/1/a.csv", tmp_path / "one.csv")
    assert (tmp_path / "one.csv").read_text() == "1"
