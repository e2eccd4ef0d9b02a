"""References a spec makes to things that live elsewhere: registered assets, run
outputs, registered environments and computes, datastore URIs."""
from __future__ import annotations

import re

from shared.domain.errors import InvalidSpec
from shared.specs.types import AssetRef, RunOutputRef

# Azure ML's rule for asset names and versions. It also keeps them safe to use as
# blob path segments: no "/", and no "." or ".." since they cannot start with a dot.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}")
_N = SAFE_NAME.pattern
_SHORT_REF = re.compile(rf"(?P<name>{_N})(?::(?P<version>{_N})|@(?P<label>{_N}))")
# Long forms: ARM ids (`azureml:/subscriptions/.../models/<n>/versions/<v>`) and
# registry or workspace URIs (`azureml://registries/<r>/models/<n>/labels/latest`).
_LONG_REF = re.compile(
    rf"azureml:/.*/(?:data|datasets|models|environments|codes)/(?P<name>{_N})"
    rf"/(?:versions/(?P<version>{_N})|labels/(?P<label>{_N}))/?"
)
_RUN_OUTPUT = re.compile(r"azureml://jobs/(?P<run>[^/]+)/outputs/(?P<output>[^/]+)"
                         r"(?:/paths(?:/(?P<path>.*))?)?")


def parse_asset_ref(text: str) -> AssetRef:
    """Parse a reference to a registered asset.

    Parameters:
        text: `azureml:<name>:<version>`, `azureml:<name>@<label>` (`@latest`), the same
            without the `azureml:` prefix, or a long form ending in
            `/<assets>/<name>/versions/<version>` or `/<assets>/<name>/labels/<label>`.

    Raises:
        InvalidSpec: the text is not such a reference (a bare name has neither a
            version nor a label, so it is refused too).

    Returns:
        The AssetRef, with either `version` or `label` set.
    """
    match = _LONG_REF.fullmatch(text) or _SHORT_REF.fullmatch(text.removeprefix("azureml:"))
    if not match:
        raise InvalidSpec(
            f"'{text}' is not an asset reference: use azureml:<name>:<version> or azureml:<name>@latest"
        )
    return AssetRef(match["name"], match["version"], match["label"])


def parse_run_output_ref(text: str) -> RunOutputRef:
    """Parse `azureml://jobs/<run>/outputs/artifacts/paths/<path>` (a path from the run's
    artifact root, as Azure ML writes them: `paths/outputs/model/` is what the run wrote
    to ./outputs/model) or `azureml://jobs/<run>/outputs/<output>[/paths/<path>]` (a
    named output, or a path inside it).

    Raises:
        InvalidSpec: another form, or a run id, output or path that would climb out of
            the run's folder (`..`, empty segments).

    Returns:
        The RunOutputRef, its path without leading or trailing slashes.
    """
    match = _RUN_OUTPUT.fullmatch(text)
    if not match:
        raise InvalidSpec(f"'{text}' is not azureml://jobs/<run>/outputs/artifacts/paths/<path> "
                          "or azureml://jobs/<run>/outputs/<output>/paths/<path>")
    run_id, output, path = match["run"], match["output"], (match["path"] or "").strip("/")
    artifacts = output == "artifacts"
    segments = path.split("/") if path or artifacts else []
    if (not SAFE_NAME.fullmatch(run_id) or not SAFE_NAME.fullmatch(output) or "\\" in path
            or any(s in ("", ".", "..") for s in segments)):
        raise InvalidSpec(f"'{text}' names an unsafe run id, output or path")
    return RunOutputRef(run_id, path, "" if artifacts else output)


def is_remote(text: str) -> bool:
    """Whether a path in a spec points somewhere other than the local disk."""
    return text.startswith(("azureml:", "git+")) or "://" in text


def is_asset_ref(text: str) -> bool:
    """`azureml:<name>...` or an ARM id, as opposed to an `azureml://` URI."""
    short = text.startswith("azureml:") and not text.startswith("azureml://")
    return short or bool(_LONG_REF.fullmatch(text))


def environment_name(text: str) -> str:
    """The registered environment a spec names, without `azureml:`.

    `azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest` gives
    `AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest`; a registry or ARM form gives
    `<name>@<label>` or `<name>:<version>`, since mlcycle maps environments by name.
    """
    match = _LONG_REF.fullmatch(text)
    if match:
        return f"{match['name']}@{match['label']}" if match["label"] else f"{match['name']}:{match['version']}"
    return text.removeprefix("azureml:")


def compute_name(text: str) -> str:
    """`azureml:cpu-cluster` or an ARM id `.../computes/cpu-cluster` gives `cpu-cluster`."""
    return text.removeprefix("azureml:").rstrip("/").rsplit("/", 1)[-1]


def check_name(value: object, field: str) -> None:
    """Refuse a name or version that could not be an id or a blob path segment.

    Raises:
        InvalidSpec: a string or number outside Azure ML's naming rule.
    """
    if isinstance(value, bool) or (isinstance(value, (str, int)) and not SAFE_NAME.fullmatch(str(value))):
        raise InvalidSpec(f"{field}: '{value}' may hold only letters, digits, '-', '_' and '.'")
