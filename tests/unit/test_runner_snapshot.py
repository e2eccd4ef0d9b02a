"""Code snapshots: deterministic archives of a code folder, honouring its ignore file."""
from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from shared.domain.errors import PermanentError
from shared.runner.ignore import IgnoreRules, parse_pattern
from shared.runner.snapshot import extract_snapshot, snapshot_dir


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return [m.name for m in tar.getmembers() if not m.isdir()]


def rules(*lines: str) -> IgnoreRules:
    return IgnoreRules([p for p in map(parse_pattern, lines) if p is not None])


# --- determinism ------------------------------------------------------------------------

def test_the_same_content_gives_the_same_bytes_whatever_the_times_and_order(tmp_path):
    files = {"train.py": "print(1)", "pkg/a.py": "a", "pkg/b.py": "b", "data/x.csv": "1,2"}
    first = make_tree(tmp_path / "one", files)
    second = make_tree(tmp_path / "two", dict(reversed(list(files.items()))))
    os.utime(second / "train.py", (1_000_000, 1_000_000))

    assert snapshot_dir(first) == snapshot_dir(second)


def test_a_changed_file_changes_the_digest(tmp_path):
    code = make_tree(tmp_path / "code", {"train.py": "print(1)"})
    before, _ = snapshot_dir(code)
    (code / "train.py").write_text("print(2)")

    assert snapshot_dir(code)[0] != before


def test_the_executable_bit_survives_a_round_trip(tmp_path):
    code = make_tree(tmp_path / "code", {"run.sh": "echo hi", "lib.py": ""})
    (code / "run.sh").chmod(0o755)
    _, data = snapshot_dir(code)
    extract_snapshot(data, tmp_path / "out")

    assert os.access(tmp_path / "out" / "run.sh", os.X_OK)
    assert not os.access(tmp_path / "out" / "lib.py", os.X_OK)
    assert (tmp_path / "out" / "lib.py").read_text() == ""


# --- ignore rules -----------------------------------------------------------------------

def test_git_folders_and_bytecode_caches_are_always_left_out(tmp_path):
    code = make_tree(tmp_path / "code", {
        "train.py": "", ".git/HEAD": "ref", "__pycache__/train.cpython-311.pyc": "",
        "pkg/__pycache__/m.pyc": "", "pkg/m.py": ""})

    assert names(snapshot_dir(code)[1]) == ["pkg/m.py", "train.py"]


def test_amlignore_wins_over_gitignore(tmp_path):
    code = make_tree(tmp_path / "code", {
        ".amlignore": "data/\n", ".gitignore": "*.py\n", "train.py": "", "data/big.bin": ""})

    assert names(snapshot_dir(code)[1]) == [".amlignore", ".gitignore", "train.py"]


def test_gitignore_is_used_when_there_is_no_amlignore(tmp_path):
    code = make_tree(tmp_path / "code", {
        ".gitignore": "# caches\n*.pyc\n\n/build\nlogs/\ndocs/**/draft.md\n!keep.pyc\n",
        "a.pyc": "", "sub/b.pyc": "", "keep.pyc": "", "build/out.o": "", "sub/build/x": "",
        "sub/logs/l.txt": "", "logs": "", "docs/draft.md": "", "docs/a/b/draft.md": "",
        "docs/final.md": "", "train.py": ""})

    assert names(snapshot_dir(code)[1]) == [
        ".gitignore", "docs/final.md", "keep.pyc", "logs", "sub/build/x", "train.py"]


@pytest.mark.parametrize("pattern, path, is_dir, ignored", [
    ("*.pyc", "a/b/c.pyc", False, True),
    ("*.pyc", "a/b/c.py", False, False),
    ("data/", "data", True, True),
    ("data/", "data", False, False),  # a file named like the folder stays
    ("/rooted", "rooted", False, True),
    ("/rooted", "sub/rooted", False, False),
    ("a/b", "a/b", False, True),
    ("a/b", "x/a/b", False, False),  # an inner slash anchors the pattern
    ("**/cache", "x/y/cache", True, True),
    ("a/**/z", "a/z", False, True),
    ("a/**/z", "a/b/c/z", False, True),
    ("a/**", "a", True, False),  # everything inside a, not a itself
    ("a/**", "a/f", False, True),
    ("file?.txt", "file1.txt", False, True),
    ("[ab].txt", "c.txt", False, False),
    ("\\!bang", "!bang", False, True),
])
def test_gitignore_patterns_match_as_git_does(pattern, path, is_dir, ignored):
    assert rules(pattern).ignored(path, is_dir) is ignored


def test_the_last_matching_pattern_decides():
    assert rules("*.log", "!keep.log").ignored("keep.log", False) is False
    assert rules("!keep.log", "*.log").ignored("keep.log", False) is True


def test_comments_and_blank_lines_are_no_patterns():
    assert parse_pattern("# a comment") is None
    assert parse_pattern("   ") is None


# --- symlinks and unsafe archives -------------------------------------------------------

def test_a_symlink_inside_the_folder_is_kept_as_a_link(tmp_path):
    code = make_tree(tmp_path / "code", {"conf/base.yaml": "x: 1"})
    (code / "current.yaml").symlink_to("conf/base.yaml")
    _, data = snapshot_dir(code)
    extract_snapshot(data, tmp_path / "out")

    assert (tmp_path / "out" / "current.yaml").is_symlink()
    assert (tmp_path / "out" / "current.yaml").read_text() == "x: 1"


def test_a_symlink_pointing_outside_the_folder_is_refused(tmp_path):
    code = make_tree(tmp_path / "code", {"train.py": ""})
    (tmp_path / "secret").write_text("s")
    (code / "leak").symlink_to(tmp_path / "secret")

    with pytest.raises(PermanentError, match="outside"):
        snapshot_dir(code)


def test_a_missing_code_folder_is_a_permanent_error(tmp_path):
    with pytest.raises(PermanentError):
        snapshot_dir(tmp_path / "nowhere")


def tar_with(member: tarfile.TarInfo, content: bytes = b"") -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        member.size = len(content) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(content) if member.isfile() else None)
    return raw.getvalue()


@pytest.mark.parametrize("member", [
    tarfile.TarInfo("../escape.txt"),
    tarfile.TarInfo("/abs/escape.txt"),
    tarfile.TarInfo("ok/../../escape.txt"),
])
def test_extracting_refuses_members_that_escape(tmp_path, member):
    with pytest.raises(PermanentError):
        extract_snapshot(tar_with(member, b"x"), tmp_path / "dest")
    assert not (tmp_path / "escape.txt").exists()


def test_extracting_refuses_links_that_point_outside(tmp_path):
    link = tarfile.TarInfo("link")
    link.type, link.linkname = tarfile.SYMTYPE, "../../etc/passwd"

    with pytest.raises(PermanentError, match="outside"):
        extract_snapshot(tar_with(link), tmp_path / "dest")


def test_extracting_garbage_is_a_permanent_error(tmp_path):
    with pytest.raises(PermanentError):
        extract_snapshot(b"not a tarball", tmp_path / "dest")
