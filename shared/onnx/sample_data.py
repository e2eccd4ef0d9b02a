"""Sample inputs from a registered data asset: the rows the parity gate runs on."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from shared.onnx.conversion import ConversionError

SUFFIXES = (".npy", ".npz", ".json", ".csv")
MAX_ROWS = 256  # parity needs a handful of rows, not a training set


def read_sample_data(path: Path) -> np.ndarray | list | dict:
    """The samples in path: a .npy array, a .npz of arrays named after the model's
    inputs, a .json list of rows (or {input name: rows}), or a .csv table of numbers
    with an optional header. A folder must hold exactly one such file.

    Returns
    -------
    The first MAX_ROWS rows: an array or list for a single input, a dict of them
    for named inputs.

    Raises
    ------
    ConversionError
        No such file, several, or one that does not hold numbers.
    """
    source = _only_file(Path(path))
    try:
        value = _read(source)
    except (OSError, ValueError) as exc:
        raise ConversionError(f"cannot read sample data {source.name}: {exc}") from exc
    if isinstance(value, dict):
        return {str(name): _first_rows(rows) for name, rows in value.items()}
    return _first_rows(value)


def _read(source: Path) -> Any:
    if source.suffix == ".npy":
        return np.load(source, allow_pickle=False)
    if source.suffix == ".npz":
        with np.load(source, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    if source.suffix == ".json":
        return json.loads(source.read_text())
    return _read_csv(source)


def _read_csv(source: Path) -> np.ndarray:
    with source.open() as text:
        first = text.readline()
    try:  # a header is a first line that is not numbers
        [float(cell) for cell in first.split(",")]
        skip = 0
    except ValueError:
        skip = 1
    table = np.loadtxt(source, delimiter=",", skiprows=skip, ndmin=2,
                       max_rows=MAX_ROWS)
    return table


def _first_rows(rows: Any) -> Any:
    if isinstance(rows, (list, np.ndarray)) and len(rows) == 0:
        raise ConversionError("the sample data holds no rows")
    return rows[:MAX_ROWS]


def _only_file(path: Path) -> Path:
    if path.is_file():
        if path.suffix not in SUFFIXES:
            raise ConversionError(f"sample data {path.name} is not one of {SUFFIXES}")
        return path
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
    if len(found) != 1:
        what = "no" if not found else "several"
        raise ConversionError(f"the sample data asset holds {what} {'/'.join(SUFFIXES)} "
                              "files; register one file of sample rows")
    return found[0]
