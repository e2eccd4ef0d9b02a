"""Bundles: a tar.gz holding a spec file and the local paths it references, at their relative places."""
from __future__ import annotations

import copy
import os
import posixpath
import re
from pathlib import Path
from typing import Any

from shared.cli.archive import arcname, collect, tar_gz, walk
from shared.cli.errors import CliError

LOCAL_PATHS = ".mlcycle-local-paths"  # where absolute paths a spec names go in a bundle
FILE_PREFIX = "file:"  # a field read from a file: `environment: file:env.yml`


def load_spec_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML spec into a dict.

    Raises:
        CliError: the file is missing, not YAML, or not a mapping.
    """
    import yaml  # only the commands that read specs pay for it

    from shared import bounded_yaml

    spec_file = Path(path)
    try:
        text = spec_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"spec file not found: {spec_file}") from None
    except OSError as exc:
        raise CliError(f"cannot read {spec_file}: {exc.strerror or exc}") from None
    try:
        spec = bounded_yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CliError(f"{spec_file}: invalid YAML: {_yaml_reason(exc)}") from None
    if not isinstance(spec, dict):
        raise CliError(f"{spec_file}: expected a YAML mapping at the top level")
    return spec


def is_remote(path: str) -> bool:
    """True for registered assets and URLs (`azureml:`, `azureml://`, `https://`, `wasbs://`...);
    a `file://` URL names a local path."""
    return path.startswith("azureml:") or ("://" in path and not path.startswith("file://"))


def local_path(ref: str) -> str:
    """The local path a spec's reference names: itself, or a `file://` URL's path."""
    if not ref.startswith("file://"):
        return os.path.expanduser(ref)
    from urllib.parse import unquote, urlparse

    url = urlparse(ref)
    if url.netloc not in ("", "localhost"):
        raise CliError(f"{ref}: a file:// URL must name a file on this machine")
    return unquote(url.path)


def referenced_paths(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """The local paths a spec references, as (where in the spec, path) pairs, in spec order."""
    found: list[tuple[str, str]] = []

    def add(where: str, value: Any) -> None:
        if isinstance(value, str) and value.strip() and not is_remote(value):
            found.append((where, value))

    def add_environment(where: str, env: Any) -> None:
        if isinstance(env, dict):
            add(f"{where}.conda_file", _without_file_prefix(env.get("conda_file")))
            build = env.get("build")
            if isinstance(build, dict):
                add(f"{where}.build.path", build.get("path"))

    add("code", spec.get("code"))
    add("path", spec.get("path"))  # data and model specs
    add("conda_file", _without_file_prefix(spec.get("conda_file")))  # environment specs
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


def environment_file_paths(spec: dict[str, Any], folder: Path) -> list[tuple[str, str]]:
    """The environment spec a job names as `environment: file:<env.yml>`, and the conda
    file that one names (relative to it), as (where, path relative to folder) pairs.
    Absolute paths are left out: the server refuses them, saying which."""
    env = spec.get("environment")
    if not isinstance(env, str) or not env.startswith(FILE_PREFIX):
        return []
    ref = env[len(FILE_PREFIX):]
    if os.path.isabs(ref) or not (folder / ref).is_file():
        return []  # the server names what is wrong with it
    found = [("environment", ref)]
    try:
        conda = _without_file_prefix(load_spec_file(folder / ref).get("conda_file"))
    except CliError:
        return found  # not YAML: the server says so, naming the file
    if isinstance(conda, str) and conda.strip() and not os.path.isabs(conda):
        found.append((f"environment {env}: conda_file",
                      os.path.normpath(os.path.join(os.path.dirname(ref), conda))))
    return found


def _without_file_prefix(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FILE_PREFIX):
        return value[len(FILE_PREFIX):]
    return value


# The fields that name local paths (as referenced_paths names them): a `--set` of one is
# applied here, so that the path it names is bundled, as `az ml` uploads it.
_PATH_FIELD = re.compile(
    r"(code|path|model\.path|inputs\.[A-Za-z_][A-Za-z0-9_]*\.path"
    r"|(?:(?:trial|code_configuration)\.)?environment\.(?:conda_file|build\.path)"
    r"|(?:trial|code_configuration)\.code)")


def apply_path_sets(spec: dict[str, Any], sets: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Apply the `--set key=value` items whose key is a local path field to a copy of
    spec; the others are left for the server, which applies them to the bundled spec.

    Returns:
        (the spec, the sets still to send).
    """
    spec, rest = copy.deepcopy(spec), []
    for item in sets:
        key, _, value = item.partition("=")
        if not _PATH_FIELD.fullmatch(key.strip()):
            rest.append(item)
            continue
        node = spec
        for part in key.strip().split(".")[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[key.strip().rsplit(".", 1)[-1]] = value.strip()
    return spec, rest


def bundle_spec_file(
    path: str | os.PathLike[str], spec: dict[str, Any] | None = None, *, rewritten: bool = False
) -> tuple[bytes, str]:
    """Bundle a spec file with the local paths it references.

    The bundle's root is the deepest folder holding the spec and every relative path it
    references; of the spec's own folder only the spec and the referenced paths go in.
    An absolute path (which `az ml` uploads from wherever it lies) goes in under
    `LOCAL_PATHS/<n>/<its name>`, and the spec in the bundle is rewritten to name it there.
    `rewritten`: spec differs from the file (`--set` applied): the bundle holds spec.

    Returns:
        (tar.gz bytes, the spec's path inside the bundle, POSIX style).
    Raises:
        CliError: the spec is unreadable or references a path that does not exist.
    """
    spec_file = Path(os.path.abspath(path))
    spec = load_spec_file(spec_file) if spec is None else spec
    relative, absolute = [], []
    for where, ref in referenced_paths(spec) + environment_file_paths(spec, spec_file.parent):
        target = Path(os.path.abspath(spec_file.parent / local_path(ref)))
        if not target.exists():
            raise CliError(f"{spec_file.name}: {where} refers to {ref}, which does not exist ({target})")
        if where.endswith("code"):
            _refuse_links_out(target, spec_file.name, where)
        is_absolute = os.path.isabs(local_path(ref))
        (absolute if is_absolute else relative).append((where, target))
    root = Path(os.path.commonpath([spec_file.parent, *(t for _, t in relative)]))
    # The copies of absolute paths must not fall inside a referenced folder (a code
    # folder `.` would snapshot them): when one is the root itself, everything else
    # moves one level down, under the root's own name.
    lift = (root.name or "spec") + "/" if absolute and any(t == root for _, t in relative) else ""
    members: dict[str, Path] = {lift + arcname(spec_file, root): spec_file}
    for _, target in relative:
        members.update({posixpath.normpath(lift + k): v for k, v in collect(target, root).items()})
    spec_path = lift + arcname(spec_file, root)
    if not absolute:
        generated = {spec_path: yaml_text(spec)} if rewritten else {}
        return tar_gz({k: v for k, v in members.items() if k not in generated}, generated), spec_path
    spec = copy.deepcopy(spec)
    up = "../" * spec_path.count("/")
    for n, (where, target) in enumerate(absolute):
        if not target.name:
            raise CliError(f"{spec_file.name}: {where} names {target}, which cannot be uploaded")
        inside = f"{LOCAL_PATHS}/{n}"
        members.update({f"{inside}/{k}": v for k, v in collect(target, target.parent).items()})
        _set(spec, where, f"{up}{inside}/{target.name}")
    text = yaml_text(spec)
    return tar_gz({k: v for k, v in members.items() if k != spec_path}, {spec_path: text}), spec_path


def _set(spec: dict[str, Any], where: str, value: str) -> None:
    """Set the field `where` (as referenced_paths names it) of spec to value."""
    *parents, last = where.split(".")
    node = spec
    for part in parents:
        node = node[part]
    node[last] = value


def yaml_text(spec: dict[str, Any]) -> bytes:
    """A spec as the YAML the server reads."""
    import yaml

    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True).encode("utf-8")


def bundle_generated_spec(spec: dict[str, Any], spec_name: str = "spec.yml") -> tuple[bytes, str]:
    """Bundle a spec built from flags, with its local `path` copied in under its own name.

    The spec's `path` is rewritten to point at that copy.

    Returns:
        (tar.gz bytes, the spec's path inside the bundle).
    Raises:
        CliError: the local path does not exist.
    """
    spec = dict(spec)
    members: dict[str, Path] = {}
    ref = spec.get("path")
    if isinstance(ref, str) and not is_remote(ref):
        target = Path(os.path.abspath(local_path(ref)))
        if not target.exists() or not target.name:
            raise CliError(f"--path {ref} does not exist ({target})")
        if target.name == spec_name:
            spec_name = "mlcycle-" + spec_name
        members = collect(target, target.parent)
        spec["path"] = f"./{target.name}"
    return tar_gz(members, {spec_name: yaml_text(spec)}), spec_name


def _refuse_links_out(code: Path, spec_name: str, where: str) -> None:
    """A code folder is uploaded as it is, so a link in it that leads outside would carry
    an outside file into the snapshot: the server refuses such links in a dropped folder,
    and so does the CLI. (Data and model paths may link elsewhere: data often does.)"""
    if not code.is_dir():
        return
    inside = os.path.realpath(code)
    for path in walk(code):
        if path.is_symlink():
            real = os.path.realpath(path)
            if os.path.commonpath([inside, real]) != inside:
                raise CliError(f"{spec_name}: {where} holds a link {path.relative_to(code)} "
                               f"that points outside the code folder ({real}); copy the "
                               "file in, or pass it as an input")


def _yaml_reason(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(exc).split())
