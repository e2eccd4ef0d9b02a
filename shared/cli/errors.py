"""The one exception the CLI's commands raise for a user-facing failure."""
from __future__ import annotations


class CliError(Exception):
    """A failure worth one line on stderr (`mlcycle: <message>`) and exit code 1."""
