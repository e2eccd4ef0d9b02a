"""The caller's side of a conversion: run it in a child process and read its verdict.

Framework imports (torch, tensorflow, scikit-learn, their converters, onnxruntime) are
heavy, and a bad pickle or converter can crash or hang the interpreter; a child process
keeps both away from the worker that handles the bus.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Azure ML's Model.Framework names (ScikitLearn, TensorFlow, Keras, PyTorch, Onnx), the
# MLflow flavor names, and the spellings users write in tags.
FRAMEWORKS = {"scikitlearn": "sklearn", "sklearn": "sklearn", "scikit-learn": "sklearn",
              "scikit_learn": "sklearn", "onnx": "onnx", "tensorflow": "tensorflow",
              "tf": "tensorflow", "keras": "keras", "tf.keras": "keras",
              "pytorch": "pytorch", "torch": "pytorch"}
STDERR_TAIL = 2000
PARENT_ENV = "MLCYCLE_CONVERT_PARENT"  # the pid of the process waiting for the child


@dataclass(frozen=True)
class ConversionResult:
    """The verdict on one conversion.

    ok is True only when model.onnx was written and passed the parity gate; reason
    says why not otherwise; report is the parity report (parity.json) when there is one.
    """

    ok: bool
    reason: str
    report: dict


class ConversionError(Exception):
    """A conversion that cannot succeed (no model file, unloadable pickle, a model
    the converter does not know); its message is the reason given to the caller."""


def framework_kind(framework: str) -> str | None:
    """"sklearn", "tensorflow", "keras", "pytorch" or "onnx" for a framework name
    mlcycle can convert, else None."""
    return FRAMEWORKS.get(framework.strip().lower())


def convert_model(model_dir: Path, out_dir: Path, *, framework: str, tags: dict,
                  sample_data: Path | None = None, onnx_file: Path | None = None,
                  timeout_s: float = 600) -> ConversionResult:
    """Convert the model in model_dir to out_dir/model.onnx and check its parity.

    Parameters
    ----------
    model_dir
        The registered model's files (or the model file itself).
    out_dir
        Where model.onnx and parity.json are written; created if missing.
    framework
        "ScikitLearn", "TensorFlow", "Keras", "PyTorch" or "Onnx", in any case.
    tags
        The model's tags; `sample_input`, `sample_input_shape`, `sample_input_dtype`,
        `input_names`, `output_names`, `parity_rtol` and `parity_atol` are read.
    sample_data
        A file (or folder of one file) of sample inputs from a registered data asset;
        the parity check runs on it instead of the `sample_input` tag or generated values.
    onnx_file
        An ONNX file to check against the original instead of converting it again.
    timeout_s
        The child process is killed after this many seconds.

    Returns
    -------
    ConversionResult
        ok False with a reason when the framework is not supported, the conversion
        failed, the child crashed or timed out, or the parity check failed.

    Raises
    ------
    OSError
        out_dir cannot be created. The model's own faults never raise: they come
        back as ok False, because the handler records them instead of retrying.
    """
    if framework_kind(framework) is None:
        reason = (f"conversion of {framework} models is not supported yet" if framework.strip()
                  else "conversion of models with no framework is not supported yet")
        return ConversionResult(False, reason, {"framework": framework, "passed": False,
                                                "error": reason})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("model.onnx", "parity.json"):  # never read a verdict from an earlier try
        (out_dir / stale).unlink(missing_ok=True)
    command = [sys.executable, "-m", "shared.onnx.convert", str(model_dir), str(out_dir),
               "--framework", framework, "--tags-json", json.dumps(tags, default=str)]
    for flag, path in (("--sample-data", sample_data), ("--onnx-file", onnx_file)):
        if path is not None:
            command += [flag, str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              timeout=timeout_s, env=_child_env(), cwd=_project_root())
    except subprocess.TimeoutExpired as exc:
        return _crashed(framework, f"conversion timed out after {timeout_s:g}s", exc.stderr)
    if done.returncode != 0:
        return _crashed(framework, f"conversion process failed with exit code "
                                   f"{done.returncode}", done.stderr)
    try:
        report = json.loads((out_dir / "parity.json").read_text())
    except (OSError, ValueError) as exc:
        return _crashed(framework, f"conversion wrote no readable parity.json ({exc})",
                        done.stderr)
    return verdict(report)


def verdict(report: dict) -> ConversionResult:
    """The result a parity report stands for."""
    if report.get("error"):
        return ConversionResult(False, report["error"], report)
    if not report.get("passed"):
        return ConversionResult(False, mismatch_reason(report), report)
    return ConversionResult(True, "", report)


def mismatch_reason(report: dict) -> str:
    """Say by how much the ONNX model disagrees with the original."""
    parts = [f"output '{o['name']}' differs" for o in report.get("per_output") or []
             if not o.get("passed")][:3]
    agreement = report.get("label_agreement")
    if agreement is not None and agreement < 1:
        parts.append(f"labels agree on {agreement:.1%} of {report.get('n_samples')} samples")
    if report.get("max_abs_diff") is not None:
        parts.append(f"max_abs_diff={report['max_abs_diff']:.3g}, "
                     f"max_rel_diff={report['max_rel_diff']:.3g} "
                     f"(rtol={report.get('rtol')}, atol={report.get('atol')})")
    warned = report.get("exporter_warnings") or []
    if warned:  # a tracer's warning usually names the operation it could not follow
        parts.append(f"the exporter warned: {warned[0]}")
    return "ONNX parity check failed: " + ("; ".join(parts) or "outputs differ")


def _crashed(framework: str, what: str, stderr: str | bytes | None) -> ConversionResult:
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    tail = (stderr or "").strip()[-STDERR_TAIL:]
    reason = f"{what}: {tail}" if tail else what
    return ConversionResult(False, reason, {"framework": framework, "passed": False,
                                            "error": reason})


def _project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _child_env() -> dict:
    # The child must import this very `shared` package even when mlcycle is not
    # installed (a Functions app runs from its folder).
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_project_root()), env.get("PYTHONPATH")) if p)
    # TensorFlow's C++ start-up chatter would bury the reason in the stderr tail.
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env[PARENT_ENV] = str(os.getpid())  # the child ends itself if this process dies
    return env
