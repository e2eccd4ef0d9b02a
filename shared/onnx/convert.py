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
import warnings
from pathlib import Path

from shared.onnx.conversion import ConversionError, framework_kind


def main(argv: list[str] | None = None) -> int:
    """Run one conversion; see the module docstring. Returns the exit status."""
    args = _parser().parse_args(argv)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_report(out_dir, run(Path(args.model_dir), out_dir, args.framework,
                               json.loads(args.tags_json)))
    return 0


def run(model_dir: Path, out_dir: Path, framework: str, tags: dict) -> dict:
    """Convert and check; a ConversionError becomes a failed report."""
    from shared.onnx import parity
    from shared.onnx.options import ConversionOptions

    options = None
    try:
        options = ConversionOptions.from_tags(tags)
        kind = framework_kind(framework)
        if kind == "sklearn":
            from shared.onnx.sklearn_export import export_sklearn
            return export_sklearn(model_dir, out_dir, options)
        if kind == "onnx":
            from shared.onnx.onnx_check import check_onnx
            return check_onnx(model_dir, out_dir, options)
        raise ConversionError(f"conversion of {framework} models is not supported yet")
    except ConversionError as exc:
        return parity.failure(framework, str(exc), options)


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
    return parser


if __name__ == "__main__":
    # Version-mismatch and convergence warnings from unpickling are noise here; the
    # parity figures say whether the model still answers the same.
    warnings.simplefilter("ignore")
    sys.exit(main())
