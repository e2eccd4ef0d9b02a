"""onnx-convert: convert a registered model to ONNX and gate it on numerical parity."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from shared.domain.errors import InvalidSpec, TransientError
from shared.domain.messages import ConversionFailed, Envelope, ModelConverted, ModelRegistered
from shared.domain.records import latest, require, update
from shared.ports import BlobStore, Bus, Registry

DONE = ("Converted", "ConversionFailed")
# Azure ML v1's Model.register(sample_input_dataset=...): the data the check runs on.
SAMPLE_TAG = "sample_input_dataset"


class _NoSamples(Exception):
    """The sample data asset a model names cannot be used; the reason fails the version."""


def convert_model(envelope: Envelope, *, blobs: BlobStore, registry: Registry,
                  bus: Bus) -> None:
    msg: ModelRegistered = envelope.message
    model = require(registry, "model", msg.name, msg.version).body
    if model["state"] not in DONE:
        report, ok, reason = _convert(model, blobs, registry)
        prefix = f"{model['path']}/onnx"
        onnx = {"path": f"{prefix}/model.onnx" if ok else None, "parity": report,
                "parity_path": f"{prefix}/parity.json"}
        state, error = ("Converted", None) if ok else ("ConversionFailed", {"message": reason})
        model = update(registry, "model", msg.name, msg.version,
                       lambda body: body.update(state=state, onnx=onnx, error=error))
    if model["state"] == "Converted":
        bus.publish(Envelope(ModelConverted(msg.name, msg.version),
                             id=f"model-{msg.name}-{msg.version}-converted",
                             correlation_id=envelope.correlation_id, causation_id=envelope.id))
    else:
        bus.publish(Envelope(ConversionFailed(msg.name, msg.version, model["error"]["message"]),
                             id=f"model-{msg.name}-{msg.version}-conversion-failed",
                             correlation_id=envelope.correlation_id, causation_id=envelope.id))


def _convert(model: dict, blobs: BlobStore, registry: Registry) -> tuple[dict, bool, str]:
    """Run the conversion on local copies; store model.onnx (if it passed) and the
    parity report beside the model. Returns (report, passed, reason)."""
    from shared.onnx import convert_model as run_conversion

    tags = {**model.get("properties", {}), **model["tags"]}
    framework = model.get("framework") or tags.get("framework", "")
    prefix = f"{model['path']}/onnx"
    if not framework.strip():
        reason = ("the model has no framework tag (framework=ScikitLearn, PyTorch, "
                  "TensorFlow, Keras or Onnx) and none could be told from its files: "
                  f"{model.get('framework_unknown') or 'no files were read'}")
        report = {"framework": "", "passed": False, "error": reason}
        blobs.put(f"{prefix}/parity.json", json.dumps(report, indent=2).encode())
        return report, False, reason
    with tempfile.TemporaryDirectory(prefix="mlcycle-onnx-") as tmp:
        source, out = Path(tmp) / "model", Path(tmp) / "onnx"
        blobs.download(model["path"], source)
        out.mkdir()
        try:
            samples = _sample_data(tags, registry, blobs, Path(tmp) / "samples")
        except _NoSamples as exc:
            report = {"framework": framework, "passed": False, "error": str(exc)}
            ok, reason = False, str(exc)
        else:
            result = run_conversion(source, out, framework=framework, tags=tags,
                                    sample_data=samples)
            report, ok, reason = result.report, result.ok, result.reason
            if ok and (out / "model.onnx").exists():
                blobs.put(f"{prefix}/model.onnx", (out / "model.onnx").read_bytes())
        blobs.put(f"{prefix}/parity.json", json.dumps(report, indent=2).encode())
    return report, ok, reason


def _sample_data(tags: dict, registry: Registry, blobs: BlobStore, into: Path) -> Path | None:
    """Download the data asset the sample_input_dataset tag names, if it names one.

    Raises
    ------
    _NoSamples
        The tag is not a reference, or the asset does not exist or failed.
    TransientError
        The asset is still registering: the bus retries later.
    """
    from shared.specs.refs import parse_asset_ref

    ref_text = str(tags.get(SAMPLE_TAG) or "").strip()
    if not ref_text:
        return None
    try:
        ref = parse_asset_ref(ref_text)
    except InvalidSpec as exc:
        raise _NoSamples(f"tag {SAMPLE_TAG}: {exc}") from exc
    found = registry.get("data", ref.name, ref.version) if ref.version else \
        latest(registry, "data", ref.name, lambda b: b["state"] == "Registered")
    if found is None:
        raise _NoSamples(f"tag {SAMPLE_TAG}: data asset {ref_text!r} does not exist")
    if found.body["state"] == "Registering":
        raise TransientError(f"data asset {ref_text!r} is still registering")
    if found.body["state"] != "Registered":
        raise _NoSamples(f"tag {SAMPLE_TAG}: data asset {ref_text!r} is {found.body['state']}")
    path = found.body["path"]
    # A file keeps its name: the converter reads samples by their suffix (.npy, .csv...).
    target = into / path.rsplit("/", 1)[-1] if found.body.get("type") == "uri_file" else into
    blobs.download(path, target)
    return target
