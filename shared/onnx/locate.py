"""Find the file to convert inside a registered model's folder."""
from __future__ import annotations

from pathlib import Path

from shared.onnx.conversion import ConversionError

PICKLE_SUFFIXES = (".pkl", ".joblib", ".pickle")


def sklearn_model_file(model_dir: Path, *, exclude: Path | None = None) -> Path:
    """The pickle of a scikit-learn model: model_dir itself when it is a file, else
    model.pkl, model.joblib, the pickle an MLflow `MLmodel` names, or the only
    *.pkl/*.joblib/*.pickle file in the folder tree.

    Raises
    ------
    ConversionError
        None or several candidates, or an MLmodel without a sklearn flavor.
    """
    if model_dir.is_file():
        return model_dir
    _require_dir(model_dir)
    for name in ("model.pkl", "model.joblib"):
        if (model_dir / name).is_file():
            return model_dir / name
    mlmodel = mlmodel_file(model_dir, exclude=exclude)
    if mlmodel is not None:
        return _mlflow_pickle(mlmodel)
    pickles = _files(model_dir, lambda p: p.suffix in PICKLE_SUFFIXES, exclude)
    if not pickles:
        raise ConversionError(f"no scikit-learn model in {model_dir.name}: expected model.pkl, "
                              "model.joblib, a single *.pkl/*.joblib file or an MLflow model")
    return _only(pickles, model_dir, "model files")


def onnx_model_file(model_dir: Path, *, exclude: Path | None = None) -> Path:
    """The .onnx file: model_dir itself when it is a file, model.onnx, or the only
    *.onnx file in the folder tree.

    Raises
    ------
    ConversionError
        None or several candidates.
    """
    if model_dir.is_file():
        return model_dir
    _require_dir(model_dir)
    if (model_dir / "model.onnx").is_file():
        return model_dir / "model.onnx"
    found = _files(model_dir, lambda p: p.suffix == ".onnx", exclude)
    if not found:
        raise ConversionError(f"no .onnx file in {model_dir.name}")
    return _only(found, model_dir, ".onnx files")


def mlmodel_file(model_dir: Path, *, exclude: Path | None = None) -> Path | None:
    """The MLflow `MLmodel` file in the folder tree, or None when there is none.

    Raises
    ------
    ConversionError
        Several of them.
    """
    if not model_dir.is_dir():
        return None
    found = _files(model_dir, lambda p: p.name == "MLmodel", exclude)
    return _only(found, model_dir, "MLflow MLmodel files") if found else None


def only_file(root: Path, wanted, what: str, *, exclude: Path | None = None) -> Path:
    """The one file in root's tree that wanted(path) accepts; what names them in errors.

    Raises
    ------
    ConversionError
        root is missing, or holds none or several such files.
    """
    _require_dir(root)
    found = _files(root, wanted, exclude)
    if not found:
        raise ConversionError(f"no {what} in {root.name}")
    return _only(found, root, what)


def _mlflow_pickle(mlmodel: Path) -> Path:
    from shared.onnx.mlflow_model import flavor

    pickled = flavor(mlmodel, "sklearn").get("pickled_model")
    if not pickled:
        raise ConversionError("the MLflow model's sklearn flavor names no pickled_model")
    path = mlmodel.parent / pickled
    if not path.is_file():
        raise ConversionError(f"the MLflow model names {pickled}, which is missing")
    return path


def _require_dir(model_dir: Path) -> None:
    if not model_dir.is_dir():
        raise ConversionError(f"model folder {model_dir} does not exist")


def _files(root: Path, wanted, exclude: Path | None) -> list[Path]:
    skip = exclude.resolve() if exclude is not None else None
    return sorted(p for p in root.rglob("*") if p.is_file() and wanted(p)
                  and not (skip is not None and p.resolve().is_relative_to(skip)))


def _only(found: list[Path], root: Path, what: str) -> Path:
    if len(found) > 1:
        names = ", ".join(str(p.relative_to(root)) for p in found[:5])
        raise ConversionError(f"found several {what} ({names}) in {root.name}; "
                              "register a folder with exactly one")
    return found[0]
