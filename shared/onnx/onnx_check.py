"""Models registered as ONNX already: take the file as it is and prove it runs."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from shared.onnx import locate, parity
from shared.onnx.conversion import ConversionError
from shared.onnx.options import ConversionOptions
from shared.onnx.runtime import open_session, signature_of


def check_onnx(model_dir: Path, out_dir: Path, options: ConversionOptions) -> dict:
    """Copy the model's .onnx file to out_dir/model.onnx and run it on sample input
    (the `sample_input` tag's rows for a single-input model, else generated values).

    Returns
    -------
    dict
        The report; nothing to compare against, so `passed` means "loads and runs".

    Raises
    ------
    ConversionError
        No .onnx file, or one onnxruntime cannot load or run.
    """
    from shared.serving.samples import sample_feeds
    from shared.serving.signatures import ModelSignature

    source = locate.onnx_model_file(model_dir, exclude=out_dir)
    target = out_dir / "model.onnx"
    if source.resolve() != target.resolve():
        shutil.copyfile(source, target)
    session = open_session(target)
    sig = ModelSignature.from_session(session)
    try:
        feeds = sample_feeds(sig, n_rows=options.n_samples, seed=options.seed)
    except ValueError as exc:
        raise ConversionError(str(exc)) from exc
    if options.sample_input is not None and len(sig.inputs) == 1:
        spec = sig.inputs[0]
        try:
            feeds = {spec.name: np.asarray(options.sample_input).astype(feeds[spec.name].dtype)}
        except (TypeError, ValueError) as exc:
            raise ConversionError(f"tag sample_input does not fit input '{spec.name}': "
                                  f"{exc}") from exc
    try:
        session.run(None, feeds)
    except Exception as exc:  # onnxruntime's runtime errors are untyped
        raise ConversionError(f"the ONNX model fails on sample input: {exc}") from exc
    n_samples = len(next(iter(feeds.values()))) if feeds else 0
    return parity.report("Onnx", n_samples, options, passed=True, **signature_of(session))
