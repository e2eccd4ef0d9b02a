"""LocalBlobStore: the embedded twin of Azure Blob Storage, folders under the data root."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from shared.domain.errors import NotFound, PermanentError
from shared.private_files import private_dir


class LocalBlobStore:
    """Containers are folders, blob names are relative paths. Every write goes to a
    temporary file in the same folder and is renamed into place, so a crash never
    leaves half a file under a blob's name."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        private_dir(self.root)

    def _path(self, path: str) -> Path:
        parts = PurePosixPath(path.strip("/")).parts
        if not parts or any(p in ("..", ".") for p in parts):
            raise PermanentError(f"invalid blob path {path!r}")
        return self.root.joinpath(*parts)

    def put(self, path: str, data: bytes) -> None:
        target = self._path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, path: str, src: Path) -> None:
        target = self._path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, path: str) -> bytes:
        try:
            return self._path(path).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound(f"blob {path!r} does not exist") from None

    def exists(self, path: str) -> bool:
        return self._path(path).is_file()

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if base.is_file():
            return [prefix.strip("/")]
        if not base.is_dir():
            return []
        found = [p for p in base.rglob("*") if p.is_file() and not p.name.startswith(".tmp-")]
        return sorted(p.relative_to(self.root).as_posix() for p in found)

    def delete(self, path: str) -> None:
        self._path(path).unlink(missing_ok=True)

    def upload_dir(self, src: Path, prefix: str) -> None:
        for file in sorted(Path(src).rglob("*")):
            if file.is_file():
                self.put_file(f"{prefix.rstrip('/')}/{file.relative_to(src).as_posix()}", file)

    def download(self, prefix: str, dest: Path) -> None:
        dest = Path(dest)
        base = self._path(prefix)
        if base.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(base, dest)
            return
        names = self.list(prefix)
        if not names:
            raise NotFound(f"nothing stored under {prefix!r}")
        for name in names:
            target = dest / Path(name).relative_to(base.relative_to(self.root))
            target.parent.mkdir(parents=True, exist_ok=True)
            _copy(self.root / name, target)

    def local_path(self, path: str) -> Path | None:
        return self._path(path)


def _copy(source: Path, target: Path) -> None:
    # A link in a folder someone else writes (the drop zone) stays a link: copying what it
    # points at would carry a file from outside the store in, past the spec checks that
    # refuse links leading out of a spec's folder. Blob storage itself has no links.
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
    else:
        shutil.copyfile(source, target)
