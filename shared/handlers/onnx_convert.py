"""onnx-convert: convert a registered model to ONNX and gate it on numerical parity."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from shared.domain.messages import ConversionFailed, Envelope, ModelConverted, ModelRegistered
from shared.domain.records import require, update
from shared.ports import BlobStore, Bus, Registry

DONE = ("Converted", "ConversionFailed")


def convert_model(envelope: Envelope, *, blobs: BlobStore, registry: Registry,
                  bus: Bus) -> None:
    from shared.onnx import convert_model as run_conversion

    msg: ModelRegistered = envelope.message
    model = require(registry, "model", msg.name, msg.version).body
    if model["state"] not in DONE:
        with tempfile.TemporaryDirectory(prefix="mlcycle-onnx-") as tmp:
            source, out = Path(tmp) / "model", Path(tmp) / "onnx"
            blobs.download(model["path"], source)
            out.mkdir()
            framework = model.get("framework") or model.get("tags", {}).get("framework", "")
            result = run_conversion(source, out, framework=framework,
                                    tags={**model.get("properties", {}), **model["tags"]})
            prefix = f"{model['path']}/onnx"
            if (out / "model.onnx").exists() and result.ok:
                blobs.put(f"{prefix}/model.onnx", (out / "model.onnx").read_bytes())
            blobs.put(f"{prefix}/parity.json", json.dumps(result.report, indent=2).encode())
        onnx = {"path": f"{prefix}/model.onnx" if result.ok else None,
                "parity": result.report, "parity_path": f"{prefix}/parity.json"}
        state, error = ("Converted", None) if result.ok else (
            "ConversionFailed", {"message": result.reason})
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
