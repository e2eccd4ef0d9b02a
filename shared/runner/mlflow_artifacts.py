"""A run's MLflow artifacts, brought into run history where Azure ML shows them: at the
root of the run's files, beside outputs/ and logs/.

Two places hold them in a collected store (runs/<id>/mlruns):
- <experiment>/<run>/artifacts/<path>: what mlflow.log_artifact(s) wrote, and the
  models of MLflow 2 (`mlflow.sklearn.log_model(model, "model")`, autolog);
- <experiment>/models/<model id>/artifacts/: a logged model of MLflow 3 (autolog and
  log_model write there), named by its meta.yaml's `name`.

So an autologged model lands in runs/<id>/model/, which
`azureml://jobs/<id>/outputs/artifacts/paths/model/` names, as on Azure ML.
"""
from __future__ import annotations

from shared.ports import BlobStore

# Folders of run history that the job's own files fill; an artifact never replaces them.
RESERVED = ("outputs", "logs", "user_logs", "system_logs", "named_outputs", "mlruns",
            "mlruns_ranks")


def publish_artifacts(blobs: BlobStore, run_id: str) -> list[str]:
    """Copy the MLflow artifacts of every run in runs/<run_id>/mlruns to
    runs/<run_id>/<artifact path>; copying again writes the same files.

    Returns: a warning for each artifact that was not copied (a name that would replace
        one of run history's own folders, a logged model whose metadata is unreadable).
    """
    store = f"runs/{run_id}/mlruns"
    copies: dict[str, str] = {}  # target path under the run -> source blob
    warnings: list[str] = []
    models: dict[str, tuple[int, str]] = {}  # name -> (creation time, artifacts prefix)
    for path in blobs.list(store):
        parts = path[len(store) + 1:].split("/")
        if len(parts) < 4 or parts[0] == ".trash":
            continue
        if parts[1] == "models" and parts[3:] == ["meta.yaml"]:
            found = _model(blobs, path, warnings)
            if found is None:
                continue
            created, name = found
            if name not in models or created >= models[name][0]:  # the newest of a name
                models[name] = (created, path.rsplit("/", 1)[0] + "/artifacts")
        elif parts[1] != "models" and parts[2] == "artifacts" and len(parts) > 3:
            copies["/".join(parts[3:])] = path
    for name, (_, prefix) in sorted(models.items()):
        for path in blobs.list(prefix):
            copies[f"{name}/{path[len(prefix) + 1:]}"] = path
    refused = sorted({t.split("/")[0] for t in copies if not _allowed(t)})
    warnings += [f"MLflow artifact {top!r} was not copied into run history: the name is "
                 "one of run history's own folders" for top in refused]
    for target, source in sorted(copies.items()):
        if _allowed(target):
            blobs.put(f"runs/{run_id}/{target}", blobs.get(source))
    return warnings


def _model(blobs: BlobStore, meta_path: str, warnings: list[str]) -> tuple[int, str] | None:
    """(creation time, name) of an MLflow 3 logged model, from its meta.yaml."""
    import yaml

    from shared import bounded_yaml  # files a job wrote: nesting is bounded

    try:
        meta = bounded_yaml.safe_load(blobs.get(meta_path)) or {}
        name = str(meta["name"]).strip("/")
        created = int(meta.get("creation_timestamp") or 0)
    except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError):
        warnings.append(f"an MLflow logged model's metadata ({meta_path.rsplit('/', 2)[-2]}) "
                        "is unreadable; its files stay in the MLflow store only")
        return None
    return created, name


def _allowed(target: str) -> bool:
    segments = target.split("/")
    return segments[0] not in RESERVED and all(s not in ("", ".", "..") for s in segments)
