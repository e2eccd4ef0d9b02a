"""Local paths a spec names: resolved against the spec's folder and, for specs that
arrive from outside (a drop zone, a CLI bundle), kept inside their root folder."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from shared.domain.errors import InvalidSpec


@dataclass(frozen=True)
class SpecContext:
    """Where a spec lives and which folder its local paths must stay inside.

    `source` and `root` are already resolved. Resolved paths are cached so that a
    path checked before schema validation is not walked again on conversion.
    """

    source: Path
    root: Path | None = None
    _cache: dict[str, Path] = field(default_factory=dict, compare=False, repr=False)

    @property
    def folder(self) -> Path:
        return self.source.parent

    def local(self, raw: str, what: str) -> Path:
        """Resolve a local path the spec names.

        Parameters:
            raw: the path as written, relative to the spec's folder or absolute.
            what: how the message names it ("code path", "inputs.data path").

        Raises:
            InvalidSpec: it resolves (symlinks followed) outside the root, holds a
                link that does, or does not exist.

        Returns:
            The absolute, resolved path.
        """
        if raw not in self._cache:
            self._cache[raw] = self._resolve(raw, what)
        return self._cache[raw]

    def _resolve(self, raw: str, what: str) -> Path:
        try:
            path = (self.folder / raw).resolve()
        except (OSError, RuntimeError) as e:  # RuntimeError: a symlink loop
            raise InvalidSpec(f"{what} '{raw}' cannot be resolved: {e}") from e
        # Containment first, so that a refusal never tells whether an outside file exists.
        if not self._inside(path):
            raise InvalidSpec(f"{what} '{raw}' is outside the spec's folder")
        if not path.exists():
            raise InvalidSpec(f"{what} '{raw}' does not exist")
        if self.root is not None and path.is_dir():
            self._check_links(path, raw, what)
        return path

    def _inside(self, path: Path) -> bool:
        return self.root is None or path.is_relative_to(self.root)

    def _check_links(self, top: Path, raw: str, what: str) -> None:
        # The code snapshot and data uploads follow links, so a link inside the folder
        # could still carry outside files in; walk linked folders too, once each.
        pending, seen = [top], {top}
        while pending:
            folder = pending.pop()
            for dirpath, dirnames, filenames in os.walk(folder):
                for name in dirnames + filenames:
                    entry = Path(dirpath, name)
                    if not entry.is_symlink():
                        continue
                    try:
                        target = entry.resolve()
                    except (OSError, RuntimeError) as e:
                        raise InvalidSpec(f"{what} '{raw}' holds a broken link '{name}': {e}") from e
                    if not self._inside(target):
                        shown = entry.relative_to(top).as_posix() if entry.is_relative_to(top) else name
                        raise InvalidSpec(
                            f"{what} '{raw}' holds a link '{shown}' that points outside the spec's folder"
                        )
                    if target.is_dir() and target not in seen:
                        seen.add(target)
                        pending.append(target)
