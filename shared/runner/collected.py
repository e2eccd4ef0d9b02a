"""What of a node's folder goes to run history, and the links that may not.

A run's processes run user code, which can leave links in its outputs (`outputs/leak ->
~/.mlcycle/config.json`). Uploading a link uploads what it points at, so a link that
leads out of the node's folder would carry any file the service can read into the blob
store, to be downloaded by whoever can read the run. Such links are refused: the node
bootstrap removes them once the processes have ended (an uploader that follows links,
such as Azure Batch's output files, then never meets them), and every uploader skips
any it still finds. A link to a file inside the node folder is uploaded as that file;
links to folders are not followed (they could loop), as before.
"""
from __future__ import annotations

import os
from pathlib import Path

from shared.runner.distribution import RANK_STORES

# Node-folder paths collected, and where they go under runs/<run_id>/.
COLLECTED = (("code/outputs", "outputs"), ("code/logs", "logs"), ("user_logs", "user_logs"),
             ("mlruns", "mlruns"), (RANK_STORES, RANK_STORES),
             ("named_outputs", "named_outputs"))


def collectable(folder: Path, node_dir: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """The files under folder to upload, as (path, name relative to folder), sorted; and
    the links under it that lead out of node_dir, as node-relative names."""
    root = Path(node_dir).resolve()
    files: list[tuple[Path, str]] = []
    refused: list[str] = []
    for current, dirs, names in os.walk(folder):  # links to folders are not entered
        here = Path(current)
        for name in sorted([*names, *(d for d in dirs if (here / d).is_symlink())]):
            path = here / name
            if path.is_symlink() and not _inside(path, root):
                refused.append(path.relative_to(node_dir).as_posix())
            elif path.is_file():
                files.append((path, path.relative_to(folder).as_posix()))
    return sorted(files, key=lambda pair: pair[1]), sorted(refused)


def refuse_outside_links(node_dir: Path) -> list[str]:
    """Remove the links of the collected folders that lead out of node_dir (the links,
    never what they point at); returns their node-relative names."""
    removed = []
    for sub, _ in COLLECTED:
        if (node_dir / sub).is_dir():
            for name in collectable(node_dir / sub, node_dir)[1]:
                (node_dir / name).unlink(missing_ok=True)
                removed.append(name)
    return sorted(removed)


def refusal_warning(name: str) -> str:
    """What run history says of a link it refused."""
    return (f"{name} is a link that leads out of the run's folder; it was not collected "
            "(save the file itself there instead)")


def _inside(link: Path, root: Path) -> bool:
    try:
        return link.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a loop of links
        return False
