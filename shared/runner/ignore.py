"""gitignore-style patterns, as `.amlignore` and `.gitignore` use them.

Supported: blank lines and `#` comments, `!` negation (the last matching pattern wins),
a trailing `/` (directories only), a leading or inner `/` (anchored at the root), `*`,
`?`, `[...]` within one path segment, and `**` spanning any number of segments. As in
git, a file inside an ignored directory cannot be re-included: the walk never enters it.
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

ALWAYS_SKIPPED = frozenset({".git", "__pycache__"})


@dataclass(frozen=True)
class Pattern:
    segments: tuple[str, ...]
    negated: bool
    dir_only: bool

    def matches(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        return _match(self.segments, parts)


def _match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        if not rest:  # "dir/**" is everything inside dir, not dir itself
            return bool(parts)
        # Zero or more whole segments: try every split point.
        return any(_match(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], head) and _match(rest, parts[1:])


def parse_pattern(line: str) -> Pattern | None:
    """One line of an ignore file, or None for blanks and comments.

    Parameters: line: the raw line.
    Returns: the compiled pattern, or None when the line holds no pattern.
    """
    text = line.rstrip("\n").rstrip("\r")
    if not text.strip() or text.startswith("#"):
        return None
    text = text.rstrip(" ")
    negated = text.startswith("!")
    if negated:
        text = text[1:]
    elif text.startswith("\\"):  # "\!x" and "\#x" name files starting with ! or #
        text = text[1:]
    dir_only = text.endswith("/")
    text = text.rstrip("/")
    anchored = "/" in text  # a leading or inner slash ties the pattern to the root
    segments = tuple(s for s in text.strip("/").split("/") if s)
    if not segments:
        return None
    if not anchored:
        # A bare name matches at any depth, as git does.
        segments = ("**",) + segments
    return Pattern(segments, negated, dir_only)


class IgnoreRules:
    """The rules of one code folder: `.amlignore` if present, else `.gitignore`, plus the
    folders that are never part of a snapshot."""

    def __init__(self, patterns: list[Pattern]) -> None:
        self.patterns = patterns

    @classmethod
    def for_folder(cls, root: Path) -> "IgnoreRules":
        """Read the ignore file at the top of root (nested ignore files are not read).

        Parameters: root: the code folder.
        Returns: the rules; empty when neither file exists.
        """
        for name in (".amlignore", ".gitignore"):
            file = root / name
            if file.is_file():
                lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
                return cls([p for p in map(parse_pattern, lines) if p is not None])
        return cls([])

    def ignored(self, rel: str, is_dir: bool) -> bool:
        """Whether the path (relative to the root, '/'-separated) is left out.

        Parameters: rel: the relative path; is_dir: whether it is a directory.
        Returns: True when the last matching pattern excludes it.
        """
        parts = tuple(rel.split("/"))
        if parts[-1] in ALWAYS_SKIPPED:
            return True
        verdict = False
        for pattern in self.patterns:
            if pattern.matches(parts, is_dir):
                verdict = not pattern.negated
        return verdict
