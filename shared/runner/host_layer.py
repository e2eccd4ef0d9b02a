"""Virtual environments over the host's packages, for curated and image-only
environments: a job sees the packages the service has (scikit-learn, PyTorch, ...),
but what its command installs (`pip install ...`) lands in its environment's venv,
never in the service's own interpreter.

The host's packages are a layer read in place, not a copy: the venv's site-packages
holds a `.pth` file that adds the host's site-packages folders after its own, through
`site.addsitedir` so that the host's own `.pth` files (editable installs among them)
work too. A package a job installs goes to the venv's site-packages, ahead of the
host's copy on `sys.path`; pip writes only under the venv's prefix and will not remove
a package outside it ("Not uninstalling ... outside environment"), so an upgrade or an
uninstall in a job leaves the host as it was.

`--system-site-packages` would not do: it exposes the base interpreter's packages, and
the service's are in a venv of its own, which another venv cannot stack on.
"""
from __future__ import annotations

import hashlib
import json
import os
import shlex
import site
import sys
import sysconfig
import venv
from pathlib import Path
from typing import Sequence

from shared.runner.environments import EnvironmentPlan

LAYER_FILE = "_mlcycle_host_layer.pth"
LAYERED_KINDS = ("curated", "image")
# A command in the venv's bin/ runs on the venv's python: `pip` is the host's pip module
# installing into the venv. Relative to the launcher, so it names no build folder.
_LAUNCHER = '#!/bin/sh\nexec "$(dirname "$0")/python" {target} "$@"\n'


def host_site_dirs() -> tuple[str, ...]:
    """The site-packages folders of the interpreter running this (the user's own when
    it reads them), in its order."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return tuple(dict.fromkeys(d for d in dirs if os.path.isdir(d)))


def layered_key(plan: EnvironmentPlan) -> str:
    """The cache key of plan's venv: what the environment stands for (a curated name, or
    an image) and the interpreter and folders it is layered over. A venv of one curated
    environment is not another's: what a job installs in one stays out of the others."""
    if plan.kind not in LAYERED_KINDS:
        raise ValueError(f"a {plan.kind} environment is not layered over the host")
    text = json.dumps({"kind": plan.kind,
                       "of": plan.name if plan.kind == "curated" else plan.image or "",
                       "python": os.path.realpath(sys.executable), "version": sys.version,
                       "layer": host_site_dirs()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def build_layered(folder: Path, layer: Sequence[str] | None = None) -> dict:
    """Make folder a venv of the running interpreter over `layer` (the host's
    site-packages folders), with `pip` and the host's console scripts in its bin/, each
    run by the venv's python. Returns what the cache's marker records of it."""
    venv.EnvBuilder(symlinks=True, with_pip=False, clear=True).create(folder)
    layer = host_site_dirs() if layer is None else tuple(layer)
    calls = "; ".join(f"site.addsitedir({d!r})" for d in layer)
    # A .pth line that starts with "import" is run at start-up; any other names a folder
    # whose own .pth files would not be read.
    _site_packages(folder).joinpath(LAYER_FILE).write_text(f"import site; {calls}\n")
    bin_folder = folder / "bin"
    for script in _host_scripts():
        if not (bin_folder / script.name).exists():
            _launcher(bin_folder / script.name, shlex.quote(str(script)))
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for name in ("pip", f"pip{sys.version_info.major}", f"pip{version}"):
        _launcher(bin_folder / name, "-m pip")
    return {"layer": list(layer)}


def _host_scripts() -> list[Path]:
    """The console scripts of the host's packages (`torchrun`, `mlflow`, ...), which a
    curated image has on its PATH: Python files in the host interpreter's scripts folder."""
    folder = Path(sysconfig.get_path("scripts"))
    found = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        try:
            with path.open("rb") as handle:
                head = handle.read(512)
        except OSError:
            continue  # a folder, or unreadable: not a script
        # Long shebangs are written as a sh/python polyglot; both name python early on.
        if head.startswith(b"#!") and b"python" in b"".join(head.splitlines()[:2]):
            found.append(path)
    return found


def _launcher(path: Path, target: str) -> None:
    path.write_text(_LAUNCHER.format(target=target))
    path.chmod(0o755)


def _site_packages(folder: Path) -> Path:
    scheme = "venv" if "venv" in sysconfig.get_scheme_names() else "posix_prefix"
    path = Path(sysconfig.get_path("purelib", scheme,
                                   vars={"base": str(folder), "platbase": str(folder)}))
    path.mkdir(parents=True, exist_ok=True)
    return path
