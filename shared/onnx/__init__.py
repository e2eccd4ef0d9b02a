"""ONNX conversion with a numerical parity gate.

Only the caller's side is imported here; the converters run in a child process
(`python -m shared.onnx.convert`), so importing this package stays cheap.
"""
from shared.onnx.conversion import ConversionResult, convert_model, framework_kind

__all__ = ["ConversionResult", "convert_model", "framework_kind"]
