"""The function app starts without the training frameworks: they load only in the
conversion process (and onnxruntime only with the first model served)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("torch", "tensorflow", "keras", "tf2onnx", "sklearn", "skl2onnx", "onnx",
              "onnxruntime")


def loaded_by(statement: str) -> list[str]:
    """The frameworks a fresh interpreter has in sys.modules after statement."""
    code = (f"import json, sys; {statement}; "
            f"print(json.dumps(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, check=True)
    return json.loads(shown.stdout)


def test_importing_function_app_loads_no_framework():
    assert loaded_by("import function_app") == []


@pytest.mark.parametrize("module", ["shared.handlers.registry", "shared.handlers.onnx_convert",
                                    "shared.onnx", "shared.serving", "shared.api.endpoints"])
def test_the_conversion_and_serving_code_the_app_imports_loads_no_framework(module):
    assert loaded_by(f"import {module}") == []
