"""Models registered as ONNX already: take the file as it is and prove it runs."""
from __future__ import annotations

import shutil
from pathlib import Path

from shared.onnx import locate, parity
from shared.onnx.conversion import ConversionError
from shared.onnx.feeds import parity_feeds
from shared.onnx.options import ConversionOptions
from shared.onnx.runtime import adopted, open_session, signature_of


def check_onnx(model_dir: Path, out_dir: Path, options: ConversionOptions) -> dict:
    """Copy the model's .onnx file to out_dir/model.onnx and run it on sample input
    (the `sample_input` tag's rows, a data asset's samples, else generated values).

    Returns
    -------
    dict
        The report; nothing to compare against, so `passed` means "loads and runs".

    Raises
    ------
    ConversionError
        No .onnx file, or one onnxruntime cannot load or run.
    """
    from shared.serving.signatures import ModelSignature

    target = adopted(out_dir, options)
    if target is None:
        source = locate.onnx_model_file(model_dir, exclude=out_dir)
        target = out_dir / "model.onnx"
        if source.resolve() != target.resolve():
            shutil.copyfile(source, target)
    session = open_session(target)
    feeds = parity_feeds(list(ModelSignature.from_session(session).inputs), options)
    try:
        session.run(None, feeds)
    except Exception as exc:  # onnxruntime's runtime errors are untyped
        raise ConversionError(f"the ONNX model fails on sample input: {exc}") from exc
    n_samples = len(next(iter(feeds.values()))) if feeds else 0
    return parity.report("Onnx", n_samples, options, passed=True, **signature_of(session))
