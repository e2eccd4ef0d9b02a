"""Unpacking a tar.gz that came from outside (a CLI bundle, a code snapshot) into a
folder: nothing lands outside it, and what it unpacks to is bounded.

- Size and member count are read from the headers before anything is written, and the
  size is tallied again from what is written: a 4 MB bundle can hold 4 GiB of zeros.
- Each member's place is resolved on disk just before it is written, through the links
  the members before it left there. Checking names one by one is not enough: with
  `d -> .` and `e -> d/..` each link looks harmless alone, yet `e/file` lands in the
  parent folder.
- Python's tar "data" filter repeats those checks. A Python without it (before 3.10.12
  and 3.11.4) unpacks nothing at all.
"""
from __future__ import annotations

import gzip
import io
import os
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Mapping

from shared.domain.errors import MlcycleError, PermanentError
from shared.units import human_size

DEFAULT_MAX_BYTES = 2 << 30  # 2 GiB
DEFAULT_MAX_MEMBERS = 100_000
MAX_BYTES_ENV, MAX_MEMBERS_ENV = "MLCYCLE_MAX_UNPACKED_BYTES", "MLCYCLE_MAX_UNPACKED_MEMBERS"
_UNREADABLE = (tarfile.TarError, EOFError, OSError, zlib.error, gzip.BadGzipFile)


class TooLarge(PermanentError):
    """The archive unpacks to more bytes than the limit."""

    code = "PayloadTooLarge"
    status = 413


class TooManyMembers(PermanentError):
    """The archive holds more files, folders and links than the limit."""

    code = "TooManyFiles"
    status = 400


class UnsafeTarfile(MlcycleError):
    """This Python's tarfile has no data filter: archives from outside are not unpacked."""

    code = "UnsafePython"
    status = 500


@dataclass(frozen=True)
class UnpackLimits:
    """What one archive may unpack to: bytes of file content, and members of any kind."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_members: int = DEFAULT_MAX_MEMBERS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "UnpackLimits":
        """MLCYCLE_MAX_UNPACKED_BYTES and MLCYCLE_MAX_UNPACKED_MEMBERS, else the defaults
        (where no Settings reach: a Batch node, the local compute's staging)."""
        return cls(int(env.get(MAX_BYTES_ENV) or DEFAULT_MAX_BYTES),
                   int(env.get(MAX_MEMBERS_ENV) or DEFAULT_MAX_MEMBERS))


class _Tally:
    def __init__(self, limits: UnpackLimits, what: str) -> None:
        self.limits, self.what, self.members, self.bytes = limits, what, 0, 0

    def count(self, member: tarfile.TarInfo) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise TooManyMembers(
                f"the {self.what} holds more than {self.limits.max_members:,} files, folders "
                f"and links, the limit ({MAX_MEMBERS_ENV})")
        self.add_bytes(member.size if member.isreg() else 0)

    def add_bytes(self, size: int) -> None:
        self.bytes += size
        if self.bytes > self.limits.max_bytes:
            raise TooLarge(f"the {self.what} unpacks to more than "
                           f"{human_size(self.limits.max_bytes)}, the limit ({MAX_BYTES_ENV})")


def refuse_oversized(data: bytes, limits: UnpackLimits, what: str = "bundle") -> None:
    """Refuse an archive whose headers say it unpacks beyond limits, writing nothing.
    One that cannot be read is not judged here: unpacking it refuses it, naming why.

    Raises:
        TooLarge (413), TooManyMembers (400).
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            _headers(tar, limits, what)
    except _UNREADABLE:
        return


def unpack(data: bytes, dest: Path, *, limits: UnpackLimits | None = None,
           what: str = "code snapshot") -> None:
    """Unpack a tar.gz into dest (created if missing).

    Parameters: limits: None reads them from the environment (UnpackLimits.from_env).
    Raises:
        UnsafeTarfile: this Python's tarfile lacks the data filter; nothing was unpacked.
        TooLarge, TooManyMembers: over limits, before anything was written.
        PermanentError: a malformed archive, a member that is not a file, folder or
            symlink, or one that would land or point outside dest.
    """
    data_filter = getattr(tarfile, "data_filter", None)
    if data_filter is None:
        raise UnsafeTarfile("this Python's tarfile has no data filter (Python 3.10.12, "
                            "3.11.4, 3.12 and later have it): archives are not unpacked")
    limits = limits or UnpackLimits.from_env(os.environ)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = _headers(tar, limits, what)
            written, links = _Tally(limits, what), []
            try:
                for member in members:
                    path = _place(member, root, what)
                    # Folders keep default modes: one read-only folder would refuse the
                    # files after it (extractall defers folder modes to the end too).
                    tar.extract(member, root, set_attrs=not member.isdir(),
                                filter=data_filter)
                    if member.issym():
                        links.append(member)
                    elif member.isreg():
                        written.add_bytes(os.stat(path).st_size)
            finally:
                escaping = _remove_links_pointing_out(links, root)
    except _UNREADABLE as exc:
        raise PermanentError(f"cannot unpack {what}: {exc}") from exc
    if escaping:
        raise PermanentError(f"{what} link {escaping[0]!r} points outside")


def _headers(tar: tarfile.TarFile, limits: UnpackLimits, what: str) -> list[tarfile.TarInfo]:
    tally, members = _Tally(limits, what), []
    while (member := tar.next()) is not None:
        tally.count(member)
        members.append(member)
    return members


def _place(member: tarfile.TarInfo, root: Path, what: str) -> Path:
    """Where the member will be written, checked against the disk as it is now."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise PermanentError(f"{what} member {member.name!r} escapes the destination")
    if not (member.isreg() or member.isdir() or member.issym()):
        raise PermanentError(f"{what} member {member.name!r} is not a file or folder")
    path = root.joinpath(*name.parts)
    if not _inside(path, root):
        raise PermanentError(f"{what} member {member.name!r} would be written outside the "
                             "destination, through a link before it")
    if member.issym() and (PurePosixPath(member.linkname).is_absolute()
                           or not _inside(path.parent / member.linkname, root)):
        raise PermanentError(f"{what} link {member.name!r} points outside")
    return path


def _remove_links_pointing_out(links: list[tarfile.TarInfo], root: Path) -> list[str]:
    """A link checked while a later link was missing may point outside once that one
    exists (`e -> d/..` before `d -> .`): such links are removed, whatever else
    happened, so that none is left behind. Returns their names."""
    escaping = [m.name for m in links if not _inside(root / m.name, root)]
    for name in escaping:
        link = root / name
        if _inside(link.parent, root):
            link.unlink(missing_ok=True)
    return escaping


def _inside(path: Path, root: Path) -> bool:
    real = Path(os.path.realpath(path))
    return real == root or real.is_relative_to(root)

