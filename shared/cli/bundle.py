"""Bundles: a tar.gz holding a spec file and the local paths it references, at their relative places."""
from __future__ import annotations

import fnmatch
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from shared.cli.errors import CliError

if TYPE_CHECKING:
    import tarfile

ALWAYS_SKIPPED = (".git", "__pycache__")
IGNORE_FILES = (".amlignore", ".gitignore")  # Azure ML uses .amlignore when both exist


def load_spec_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML spec into a dict.

    Raises:
        CliError: the file is missing, not YAML, or not a mapping.
    """
    import yaml  # only the commands that read specs pay for it

    spec_file = Path(path)
    try:
        text = spec_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"spec file not found: {spec_file}") from None
    except OSError as exc:
        raise CliError(f"cannot read {spec_file}: {exc.strerror or exc}") from None
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CliError(f"{spec_file}: invalid YAML: {_yaml_reason(exc)}") from None
    if not isinstance(spec, dict):
        raise CliError(f"{spec_file}: expected a YAML mapping at the top level")
    return spec


def is_remote(path: str) -> bool:
    """True for registered assets and URLs (`azureml:`, `azureml://`, `https://`, `wasbs://`...)."""
    return path.startswith("azureml:") or "://" in path


def referenced_paths(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """The local paths a spec references, as (where in the spec, path) pairs, in spec order."""
    found: list[tuple[str, str]] = []

    def add(where: str, value: Any) -> None:
        if isinstance(value, str) and value.strip() and not is_remote(value):
            found.append((where, value))

    def add_environment(where: str, env: Any) -> None:
        if isinstance(env, dict):
            add(f"{where}.conda_file", env.get("conda_file"))
            build = env.get("build")
            if isinstance(build, dict):
                add(f"{where}.build.path", build.get("path"))

    add("code", spec.get("code"))
    add("path", spec.get("path"))  # data and model specs
    inputs = spec.get("inputs")
    # A wrong shape (`inputs: 5`) is the server's to refuse, naming the field.
    for name, value in (inputs.items() if isinstance(inputs, dict) else ()):
        if isinstance(value, dict):
            add(f"inputs.{name}.path", value.get("path"))
    add_environment("environment", spec.get("environment"))
    for parent in ("trial", "code_configuration"):  # sweep trials, online deployments
        section = spec.get(parent)
        if isinstance(section, dict):
            add(f"{parent}.code", section.get("code"))
            add_environment(f"{parent}.environment", section.get("environment"))
    model = spec.get("model")
    if isinstance(model, dict):  # an inline model in a deployment
        add("model.path", model.get("path"))
    return found


def bundle_spec_file(
    path: str | os.PathLike[str], spec: dict[str, Any] | None = None
) -> tuple[bytes, str]:
    """Bundle a spec file with the local paths it references.

    The bundle's root is the deepest folder holding the spec and every referenced path;
    of the spec's own folder only the spec and the referenced paths go in.

    Returns:
        (tar.gz bytes, the spec's path inside the bundle, POSIX style).
    Raises:
        CliError: the spec is unreadable or references a path that does not exist.
    """
    spec_file = Path(os.path.abspath(path))
    spec = load_spec_file(spec_file) if spec is None else spec
    targets = []
    for where, ref in referenced_paths(spec):
        target = Path(os.path.abspath(spec_file.parent / ref))
        if not target.exists():
            raise CliError(f"{spec_file.name}: {where} refers to {ref}, which does not exist ({target})")
        if where.endswith("code"):
            _refuse_links_out(target, spec_file.name, where)
        targets.append(target)
    root = Path(os.path.commonpath([spec_file.parent, *targets]))
    members: dict[str, Path] = {_arcname(spec_file, root): spec_file}
    for target in targets:
        members.update(_collect(target, root))
    spec_path = _arcname(spec_file, root)
    return _tar(members, {}), spec_path


def bundle_generated_spec(spec: dict[str, Any], spec_name: str = "spec.yml") -> tuple[bytes, str]:
    """Bundle a spec built from flags, with its local `path` copied in under its own name.

    The spec's `path` is rewritten to point at that copy.

    Returns:
        (tar.gz bytes, the spec's path inside the bundle).
    Raises:
        CliError: the local path does not exist.
    """
    import yaml

    spec = dict(spec)
    members: dict[str, Path] = {}
    ref = spec.get("path")
    if isinstance(ref, str) and not is_remote(ref):
        target = Path(os.path.abspath(ref))
        if not target.exists() or not target.name:
            raise CliError(f"--path {ref} does not exist ({target})")
        if target.name == spec_name:
            spec_name = "mlcycle-" + spec_name
        members = _collect(target, target.parent)
        spec["path"] = f"./{target.name}"
    text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    return _tar(members, {spec_name: text.encode("utf-8")}), spec_name


def _refuse_links_out(code: Path, spec_name: str, where: str) -> None:
    """A code folder is uploaded as it is, so a link in it that leads outside would carry
    an outside file into the snapshot: the server refuses such links in a dropped folder,
    and so does the CLI. (Data and model paths may link elsewhere: data often does.)"""
    if not code.is_dir():
        return
    inside = os.path.realpath(code)
    for path in _walk(code):
        if path.is_symlink():
            real = os.path.realpath(path)
            if os.path.commonpath([inside, real]) != inside:
                raise CliError(f"{spec_name}: {where} holds a link {path.relative_to(code)} "
                               f"that points outside the code folder ({real}); copy the "
                               "file in, or pass it as an input")


def _collect(target: Path, root: Path) -> dict[str, Path]:
    if target.is_file():
        return {_arcname(target, root): target}
    return {_arcname(p, root): p for p in _walk(target)}


def _walk(folder: Path) -> Iterator[Path]:
    """The folder itself, then what is under it that its ignore file does not exclude."""
    patterns = _ignore_patterns(folder)
    seen: set[str] = set()
    yield folder
    # Symlinked folders are followed (data often lives elsewhere); `seen` breaks link loops.
    for current, dirs, files in os.walk(folder, followlinks=True):
        here = Path(current)
        seen.add(os.path.realpath(here))
        dirs[:] = sorted(
            d for d in dirs
            if not _ignored(here / d, folder, patterns, is_dir=True)
            and os.path.realpath(here / d) not in seen
        )
        for name in sorted(files):
            if not _ignored(here / name, folder, patterns, is_dir=False):
                yield here / name
        yield from (here / d for d in dirs)


def _ignore_patterns(folder: Path) -> list[str]:
    for name in IGNORE_FILES:
        ignore_file = folder / name
        if ignore_file.is_file():
            lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
            # Negations ("!keep.txt") are not supported: the simple form covers real files.
            return [s for s in (ln.strip() for ln in lines) if s and s[0] not in "#!"]
    return []


def _ignored(path: Path, folder: Path, patterns: list[str], *, is_dir: bool) -> bool:
    if path.name in ALWAYS_SKIPPED:
        return True
    relative = path.relative_to(folder).as_posix()
    for pattern in patterns:
        if pattern.endswith("/"):
            if not is_dir:
                continue
            pattern = pattern.rstrip("/")
        anchored = pattern.startswith("/")
        pattern = pattern.lstrip("/")
        if fnmatch.fnmatch(relative, pattern) or (not anchored and fnmatch.fnmatch(path.name, pattern)):
            return True
    return False


def _arcname(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _tar(members: dict[str, Path], generated: dict[str, bytes]) -> bytes:
    """A reproducible tar.gz: sorted entries, zero times and owners, so equal content hashes equal."""
    import gzip
    import tarfile

    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(set(members) | set(generated)):
                if name in ("", "."):
                    continue
                if name in generated:
                    tar.addfile(_info(name, len(generated[name]), 0o644), io.BytesIO(generated[name]))
                elif members[name].is_dir():
                    info = _info(name, 0, 0o755)
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                else:
                    _add_file(tar, name, members[name])
    return buffer.getvalue()


def _add_file(tar: tarfile.TarFile, name: str, source: Path) -> None:
    mode = 0o755 if os.access(source, os.X_OK) else 0o644
    try:
        with open(source, "rb") as handle:
            tar.addfile(_info(name, os.fstat(handle.fileno()).st_size, mode), handle)
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror or exc}") from None


def _info(name: str, size: int, mode: int) -> tarfile.TarInfo:
    import tarfile

    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, mode, 0
    return info


def _yaml_reason(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(exc).split())
