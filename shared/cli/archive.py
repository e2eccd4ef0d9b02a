"""The files of a bundle: a folder walked as Azure ML uploads it (its .amlignore or
.gitignore honoured), and a reproducible tar.gz of them."""
from __future__ import annotations

import fnmatch
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from shared.cli.errors import CliError

if TYPE_CHECKING:
    import tarfile

ALWAYS_SKIPPED = (".git", "__pycache__")
IGNORE_FILES = (".amlignore", ".gitignore")  # Azure ML uses .amlignore when both exist


def collect(target: Path, root: Path) -> dict[str, Path]:
    """The bundle's members for target (a file, or a folder walked), named relative to root."""
    if target.is_file():
        return {arcname(target, root): target}
    return {arcname(p, root): p for p in walk(target)}


def walk(folder: Path) -> Iterator[Path]:
    """The folder itself, then what is under it that its ignore file does not exclude."""
    patterns = _ignore_patterns(folder)
    seen: set[str] = set()
    yield folder
    # Symlinked folders are followed (data often lives elsewhere); `seen` breaks link loops.
    for current, dirs, files in os.walk(folder, followlinks=True):
        here = Path(current)
        seen.add(os.path.realpath(here))
        dirs[:] = sorted(
            d for d in dirs
            if not _ignored(here / d, folder, patterns, is_dir=True)
            and os.path.realpath(here / d) not in seen
        )
        for name in sorted(files):
            if not _ignored(here / name, folder, patterns, is_dir=False):
                yield here / name
        yield from (here / d for d in dirs)


def _ignore_patterns(folder: Path) -> list[str]:
    for name in IGNORE_FILES:
        ignore_file = folder / name
        if ignore_file.is_file():
            lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
            # Negations ("!keep.txt") are not supported: the simple form covers real files.
            return [s for s in (ln.strip() for ln in lines) if s and s[0] not in "#!"]
    return []


def _ignored(path: Path, folder: Path, patterns: list[str], *, is_dir: bool) -> bool:
    if path.name in ALWAYS_SKIPPED:
        return True
    relative = path.relative_to(folder).as_posix()
    for pattern in patterns:
        if pattern.endswith("/"):
            if not is_dir:
                continue
            pattern = pattern.rstrip("/")
        anchored = pattern.startswith("/")
        pattern = pattern.lstrip("/")
        if fnmatch.fnmatch(relative, pattern) or (not anchored and fnmatch.fnmatch(path.name, pattern)):
            return True
    return False


def arcname(path: Path, root: Path) -> str:
    """path's name in a bundle rooted at root, POSIX style."""
    return path.relative_to(root).as_posix()


def tar_gz(members: dict[str, Path], generated: dict[str, bytes]) -> bytes:
    """A reproducible tar.gz: sorted entries, zero times and owners, so equal content hashes equal."""
    import gzip
    import tarfile

    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(set(members) | set(generated)):
                if name in ("", "."):
                    continue
                if name in generated:
                    tar.addfile(_info(name, len(generated[name]), 0o644), io.BytesIO(generated[name]))
                elif members[name].is_dir():
                    info = _info(name, 0, 0o755)
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                else:
                    _add_file(tar, name, members[name])
    return buffer.getvalue()


def _add_file(tar: tarfile.TarFile, name: str, source: Path) -> None:
    mode = 0o755 if os.access(source, os.X_OK) else 0o644
    try:
        with open(source, "rb") as handle:
            tar.addfile(_info(name, os.fstat(handle.fileno()).st_size, mode), handle)
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror or exc}") from None


def _info(name: str, size: int, mode: int) -> tarfile.TarInfo:
    import tarfile

    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, mode, 0
    return info
