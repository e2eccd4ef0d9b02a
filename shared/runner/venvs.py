"""Virtual environments of jobs: built once per specification hash under
`<data_root>/envs/<hash>/`, reused by every later run that asks for the same one.

A conda file's venv is clean (no system site packages): the project's own packages must
not leak into a job that declared what it needs. The host's pip installs into it
(`pip --python`), which spares the seconds `ensurepip` would take; the venv holds pip
itself only when the conda file lists it. A curated or image-only environment's venv is
layered over the host's packages instead (`shared.runner.host_layer`).

A venv cannot be moved once built (its scripts' shebangs name its folder), so it is built
in place and published by its marker file, written last and atomically: a folder without
the marker is a build that died, and the next build replaces it. A file lock per hash
makes concurrent launches build once.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from shared.domain.errors import PermanentError, TransientError
from shared.runner.environments import EnvironmentPlan
from shared.runner.host_layer import LAYERED_KINDS, build_layered, layered_key

ENVS_FOLDER = "envs"
MARKER = "mlcycle-env.json"
REQUIREMENTS = "mlcycle-requirements.txt"
BUILD_LOG = "mlcycle-build.log"
BUILD_TIMEOUT_S = 1200.0
_TAIL_LINES = 20
_LOCK_POLL_S = 0.2


def ensure_venv(plan: EnvironmentPlan, cache_root: Path, *,
                python: str = sys.executable, timeout_s: float = BUILD_TIMEOUT_S) -> Path:
    """The folder of plan's virtual environment, built first if no launch built it yet.

    Parameters:
        plan: a "venv" plan, or a "curated" or "image" one (layered over the packages
            of the interpreter running this).
        cache_root: where environments are cached (`<data_root>/envs`).
        python: the interpreter a "venv" plan's venv is made from, which also runs pip.
        timeout_s: how long one build may take.
    Raises:
        PermanentError: pip (or venv) failed; the message ends with its output's tail.
        TransientError: another launch has held the build lock for longer than a build
            may take; a retry finds the venv built, or takes the build over.
    Returns: the venv's folder; its interpreter is `interpreter_of(folder)`.
    """
    key = venv_key(plan)
    folder = cache_root / key
    if is_built(folder):
        return folder
    cache_root.mkdir(parents=True, exist_ok=True)
    with _build_lock(cache_root / f".{key}.lock", wait_s=timeout_s + 60):
        if not is_built(folder):  # another launch may have built it while we waited
            if plan.kind == "venv":
                _build(plan, folder, python, timeout_s)
            else:
                _build_over_host(plan, key, folder)
    return folder


def venv_key(plan: EnvironmentPlan) -> str:
    """The name of plan's venv in the cache."""
    if plan.kind in LAYERED_KINDS:
        return layered_key(plan)
    if plan.kind != "venv" or not plan.hash:
        raise ValueError(f"a {plan.kind} environment has no virtual environment")
    return plan.hash


def interpreter_of(folder: Path) -> Path:
    """The python of a venv folder."""
    return folder / "bin" / "python"


def is_built(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def _build(plan: EnvironmentPlan, folder: Path, python: str, timeout_s: float) -> None:
    shutil.rmtree(folder, ignore_errors=True)  # what a build that died left behind
    deadline = time.monotonic() + timeout_s
    try:
        _run([python, "-m", "venv", "--without-pip", str(folder)], "python -m venv",
             folder.parent, deadline)
        requirements = folder / REQUIREMENTS
        requirements.write_text("".join(f"{line}\n" for line in plan.pip))
        if plan.pip:
            output = _run([python, "-m", "pip", "--python", str(interpreter_of(folder)),
                           "install", "--disable-pip-version-check", "--no-input",
                           "--progress-bar", "off", "-r", str(requirements)],
                          "pip install", folder.parent, deadline)
            (folder / BUILD_LOG).write_text(output)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _publish(folder, {"hash": plan.hash, "pip": list(plan.pip), "python": sys.version,
                      "build_id": uuid.uuid4().hex,
                      "built_at": datetime.now(timezone.utc).isoformat()})


def _build_over_host(plan: EnvironmentPlan, key: str, folder: Path) -> None:
    try:
        built = build_layered(folder)  # clears what a build that died left behind
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _publish(folder, {"hash": key, "kind": plan.kind, "name": plan.name, "image": plan.image,
                      "python": sys.version, "build_id": uuid.uuid4().hex,
                      "built_at": datetime.now(timezone.utc).isoformat(), **built})


def _run(argv: list[str], what: str, cwd: Path, deadline: float) -> str:
    """Run one build step and return its output. A failure names the step and ends with
    the tail of its output, which is what the run's error shows."""
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace",
                              timeout=max(deadline - time.monotonic(), 1.0), cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        raise PermanentError(f"building the job's environment failed: {what} did not finish "
                             f"in time{_tail(exc.output)}") from exc
    except OSError as exc:
        raise PermanentError(f"building the job's environment failed: cannot run {what}: "
                             f"{exc}") from exc
    if done.returncode != 0:
        raise PermanentError(f"building the job's environment failed: {what} exited with "
                             f"code {done.returncode}{_tail(done.stdout)}")
    return done.stdout


def _tail(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        output = output.decode("utf-8", errors="replace")
    lines = (output or "").strip().splitlines()[-_TAIL_LINES:]
    return ":\n" + "\n".join(lines) if lines else ""


def _publish(folder: Path, marker: dict) -> None:
    tmp = folder / f".{MARKER}.tmp"
    tmp.write_text(json.dumps(marker, indent=1))
    os.replace(tmp, folder / MARKER)


@contextmanager
def _build_lock(path: Path, *, wait_s: float) -> Iterator[None]:
    """An exclusive lock on path, waited for at most wait_s. flock is released by the
    kernel if the holder dies, so a crashed build never blocks the next one."""
    with open(path, "a") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TransientError(f"another launch is still building environment "
                                         f"{path.stem.lstrip('.')}") from None
                time.sleep(_LOCK_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def envs_root(data_root: Path) -> Path:
    """Where a host caches its environments."""
    return data_root / ENVS_FOLDER
