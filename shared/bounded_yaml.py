"""YAML from outside (spec files, `--set` values), read with a bound on nesting.

PyYAML composes nodes recursively, so a document nested a few thousand levels deep (40 KB
of `[`) ends in a RecursionError, a traceback, where the caller should hear what is wrong
with the file. Real specs nest a dozen levels at most. Kept apart from shared.specs so
that the CLI can read a spec without importing the schema code.
"""
from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError

MAX_NESTING = 100


class NestingTooDeep(ComposerError):
    """A document nested deeper than MAX_NESTING: a YAML error with a position, so every
    reader that reports YAML errors reports this one too, naming line and column."""


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self._depth >= MAX_NESTING:
            raise NestingTooDeep(
                None, None, f"nested deeper than {MAX_NESTING} levels, the limit for specs",
                self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def safe_load(text: str) -> Any:
    """`yaml.safe_load`, refusing documents nested deeper than MAX_NESTING levels.

    Raises:
        yaml.YAMLError: invalid YAML; NestingTooDeep (a MarkedYAMLError) when too deep.
    """
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
