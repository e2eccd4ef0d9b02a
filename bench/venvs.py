"""The peers' venvs under .tools/: one each, so that no peer's pins fight the project's
or another peer's. Made once; a `.ready` marker says the install finished."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def ready(venv: Path) -> bool:
    return (venv / ".ready").is_file()


def setup(venv: Path, packages: tuple[str, ...]) -> None:
    """Create the venv and install packages into it, once (what `make bench` runs first)."""
    if ready(venv):
        return
    python = venv / "bin" / "python"
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"],
                       check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    (venv / ".ready").touch()
