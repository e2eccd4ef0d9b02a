"""The conversion child process: `python -m shared.onnx.convert MODEL_DIR OUT_DIR
--framework X --tags-json '{...}'`.

Writes OUT_DIR/model.onnx and OUT_DIR/parity.json and exits 0 whenever it reached a
verdict, passed or not; a conversion that cannot succeed is a verdict too (parity.json
holds its "error"). Any other exit means it crashed; the caller reads stderr then.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import warnings
from pathlib import Path

from shared.faults import pause_point
from shared.onnx.conversion import PARENT_ENV, ConversionError, framework_kind

# Each converter lives in its own module so that only its framework is imported.
CONVERTERS = {
    "sklearn": ("shared.onnx.sklearn_export", "export_sklearn"),
    "tensorflow": ("shared.onnx.tf_export", "export_tensorflow"),
    "keras": ("shared.onnx.keras_export", "export_keras"),
    "pytorch": ("shared.onnx.torch_export", "export_pytorch"),
    "onnx": ("shared.onnx.onnx_check", "check_onnx"),
}


def main(argv: list[str] | None = None) -> int:
    """Run one conversion; see the module docstring. Returns the exit status."""
    args = _parser().parse_args(argv)
    _end_with_parent(os.environ.get(PARENT_ENV))
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pause_point("onnx-convert", "converting")  # crash tests: the host dies while we run
    report = run(Path(args.model_dir), out_dir, args.framework, json.loads(args.tags_json),
                 sample_data=_path(args.sample_data), onnx_file=_path(args.onnx_file))
    _write_report(out_dir, report)
    return 0


def _end_with_parent(parent: str | None) -> None:
    """A host that dies (SIGKILL, a crash) never reads this conversion's verdict, and the
    next host converts again: without this watch the child would run on as an orphan."""
    if not parent:
        return  # started by hand: nobody waits for us

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(0.5)
        os._exit(1)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run(model_dir: Path, out_dir: Path, framework: str, tags: dict, *,
        sample_data: Path | None = None, onnx_file: Path | None = None) -> dict:
    """Convert and check; a ConversionError becomes a failed report."""
    from importlib import import_module

    from shared.onnx import parity
    from shared.onnx.options import ConversionOptions

    options = None
    try:
        options = ConversionOptions.from_tags(tags, sample_data=sample_data,
                                              onnx_file=onnx_file)
        kind = framework_kind(framework)
        if kind not in CONVERTERS:
            raise ConversionError(f"conversion of {framework} models is not supported yet")
        module, function = CONVERTERS[kind]
        return getattr(import_module(module), function)(model_dir, out_dir, options)
    except ConversionError as exc:
        return parity.failure(framework, str(exc), options)


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _write_report(out_dir: Path, report: dict) -> None:
    partial = out_dir / ".parity.json.partial"
    partial.write_text(json.dumps(report, indent=2, default=str))
    os.replace(partial, out_dir / "parity.json")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shared.onnx.convert",
                                     description="Convert a model to ONNX with a parity check.")
    parser.add_argument("model_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--framework", required=True)
    parser.add_argument("--tags-json", default="{}")
    parser.add_argument("--sample-data", help="a file of sample inputs to check parity on")
    parser.add_argument("--onnx-file", help="check this ONNX file instead of converting")
    return parser


if __name__ == "__main__":
    # Version-mismatch and convergence warnings from unpickling are noise here; the
    # parity figures say whether the model still answers the same.
    warnings.simplefilter("ignore")
    sys.exit(main())
