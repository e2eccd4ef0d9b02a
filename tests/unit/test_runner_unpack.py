"""Unpacking archives from outside: nothing lands outside the destination, however the
links inside chain, and an archive that unpacks beyond the limits is refused before
anything is written. The archives are real tar.gz files crafted here."""
from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from shared.domain.errors import PermanentError
from shared.runner.snapshot import extract_snapshot, snapshot_dir
from shared.runner.unpack import (TooLarge, TooManyMembers, UnpackLimits, UnsafeTarfile,
                                  refuse_oversized)

MiB = 1 << 20


def crafted(*members: tuple[str, str, object]) -> bytes:
    """A tar.gz of ("link", name, target), ("file", name, bytes) and ("zeros", name,
    size) members, in the order given."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for kind, name, value in members:
            info = tarfile.TarInfo(name)
            if kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, value
                tar.addfile(info)
            elif kind == "zeros":
                info.size = value
                tar.addfile(info, io.BytesIO(bytes(value)))
            else:
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value))
    return raw.getvalue()


def outside(box: Path, dest: Path) -> list[str]:
    """Everything under box that is not dest or inside it, links not followed."""
    found = []
    for here, dirs, files in os.walk(box):
        for name in dirs + files:
            path = Path(here) / name
            if path != dest and dest not in path.parents:
                found.append(path.relative_to(box).as_posix())
    return found


# d -> . and e -> d/.. each point inside on their own; e/file then lands beside dest.
CHAIN = crafted(("link", "d", "."), ("link", "e", "d/.."), ("file", "e/file", b"escaped"))
LINK_BEFORE_ITS_HELPER = crafted(("link", "e", "d/.."), ("link", "d", "."),
                                 ("file", "e/file", b"escaped"))
LINK_LEFT_POINTING_OUT = crafted(("link", "e", "d/.."), ("link", "d", "."))
FILE_THROUGH_A_LINK = crafted(("link", "x", "d/../planted"), ("link", "d", "."),
                              ("file", "x", b"escaped"))
ESCAPES = {"chain": CHAIN, "link before its helper": LINK_BEFORE_ITS_HELPER,
           "link left pointing out": LINK_LEFT_POINTING_OUT,
           "file written through a link": FILE_THROUGH_A_LINK}


@pytest.fixture
def filter_that_does_nothing(monkeypatch):
    """tarfile as if its data filter let everything through: the own checks alone
    stand between the archive and the parent folder."""
    monkeypatch.setattr(tarfile, "data_filter", tarfile.fully_trusted_filter)
    monkeypatch.setitem(tarfile._NAMED_FILTERS, "data", tarfile.fully_trusted_filter)


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_a_link_chain_lands_nothing_outside(tmp_path, name):
    dest = tmp_path / "box" / "dest"
    with pytest.raises(PermanentError, match="outside"):
        extract_snapshot(ESCAPES[name], dest)
    assert outside(tmp_path / "box", dest) == []


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_a_link_chain_is_stopped_by_the_own_checks_alone(tmp_path, name,
                                                         filter_that_does_nothing):
    dest = tmp_path / "box" / "dest"
    with pytest.raises(PermanentError, match="outside"):
        extract_snapshot(ESCAPES[name], dest)
    assert outside(tmp_path / "box", dest) == []
    assert not any(p.is_symlink() and not os.path.realpath(p).startswith(str(dest))
                   for p in dest.rglob("*")), "a link pointing outside was left behind"


def test_without_the_data_filter_nothing_is_unpacked_at_all(tmp_path, monkeypatch):
    monkeypatch.delattr(tarfile, "data_filter")
    dest = tmp_path / "box" / "dest"
    with pytest.raises(UnsafeTarfile, match="data filter"):
        extract_snapshot(CHAIN, dest)
    assert outside(tmp_path / "box", dest) == []
    assert not dest.exists() or list(dest.iterdir()) == []


def test_links_that_stay_inside_still_work(tmp_path, filter_that_does_nothing):
    data = crafted(("link", "a", "sub"), ("file", "sub/x", b"1"), ("file", "a/y", b"2"),
                   ("link", "d", "."), ("link", "e", "d/sub"))
    extract_snapshot(data, tmp_path / "dest")
    assert (tmp_path / "dest" / "sub" / "y").read_bytes() == b"2"
    assert (tmp_path / "dest" / "e" / "x").read_bytes() == b"1"


# --- limits -----------------------------------------------------------------------------

SMALL = UnpackLimits(max_bytes=1 * MiB, max_members=20)


def test_a_bomb_of_zeros_is_refused_before_anything_is_written(tmp_path):
    bomb = crafted(("file", "train.py", b"print(1)\n"), ("zeros", "zeros.bin", 64 * MiB))
    assert len(bomb) < 100_000  # 64 MiB of zeros packs into ~64 KB
    dest = tmp_path / "dest"
    with pytest.raises(TooLarge, match="1 MiB") as refused:
        extract_snapshot(bomb, dest, SMALL)
    assert refused.value.status == 413
    assert list(dest.iterdir()) == []


def test_many_small_members_adding_up_past_the_limit_are_refused(tmp_path):
    bomb = crafted(*(("zeros", f"part{i}.bin", 300 * 1024) for i in range(4)))
    with pytest.raises(TooLarge):
        extract_snapshot(bomb, tmp_path / "dest", SMALL)
    assert list((tmp_path / "dest").iterdir()) == []


def test_too_many_members_are_a_400_naming_the_limit(tmp_path):
    many = crafted(*(("file", f"f{i}.txt", b"") for i in range(21)))
    with pytest.raises(TooManyMembers, match="20") as refused:
        extract_snapshot(many, tmp_path / "dest", SMALL)
    assert refused.value.status == 400
    assert list((tmp_path / "dest").iterdir()) == []


def test_an_archive_within_the_limits_unpacks(tmp_path):
    data = crafted(*(("zeros", f"f{i}.bin", 200 * 1024) for i in range(5)))
    extract_snapshot(data, tmp_path / "dest", SMALL)
    assert len(list((tmp_path / "dest").iterdir())) == 5


def test_the_limits_come_from_the_environment_where_no_settings_reach(tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("MLCYCLE_MAX_UNPACKED_BYTES", str(MiB))
    with pytest.raises(TooLarge, match="MLCYCLE_MAX_UNPACKED_BYTES"):
        extract_snapshot(crafted(("zeros", "z.bin", 2 * MiB)), tmp_path / "dest")


def test_the_upload_check_reads_headers_only_and_leaves_unreadable_bodies_to_unpacking():
    with pytest.raises(TooLarge):
        refuse_oversized(crafted(("zeros", "z.bin", 2 * MiB)), SMALL)
    refuse_oversized(crafted(("file", "ok.txt", b"fine")), SMALL)
    refuse_oversized(b"not a tarball", SMALL)  # POST /jobs naming it says why


def test_a_real_snapshot_round_trips_under_the_default_limits(tmp_path):
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    (code / "pkg" / "m.py").write_text("x = 1\n")
    (code / "link.py").symlink_to("pkg/m.py")
    extract_snapshot(snapshot_dir(code)[1], tmp_path / "out")
    assert (tmp_path / "out" / "link.py").read_text() == "x = 1\n"
