"""Launch plans: a job's command with its inputs and outputs resolved, and the environment
each process gets. One plan, two executors (local processes, Azure Batch).

Paths in a plan are relative to ${MLCYCLE_NODE_DIR}, which the node bootstrap sets to its
own folder; the command is run by bash, so the variable is left for bash to expand and
paths are double-quoted rather than shell-quoted. Addresses and ports are references
too (${MLCYCLE_HOST_<node>}, ${MLCYCLE_PORT_<n>}: see topology.py), so the plan stays a
pure value of the job; which node runs which rank is distribution.py's.
"""
from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import PurePosixPath

from shared.domain.errors import PermanentError
from shared.ports import LaunchPlan, NodeSpec, ProcessSpec
from shared.runner.distribution import RANK_STORES, layout
from shared.runner.topology import ports_needed

NODE_DIR = "${MLCYCLE_NODE_DIR}"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_REFERENCE = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z0-9_]+)\s*\}\}")
# Azure ML's optional block: kept only when every input it names was given.
_OPTIONAL = re.compile(r"\$\[\[(.*?)\]\]", re.S)


def build_plan(run_id: str, *, command: str, snapshot: str, inputs: Mapping[str, dict],
               outputs: Sequence[str], experiment_name: str, timeout_s: float | None = None,
               extra_env: Mapping[str, str] | None = None, distribution: dict | None = None,
               instance_count: int = 1, interpreter: str | None = None) -> LaunchPlan:
    """The plan of a command job: its nodes, their processes, and each one's environment.

    Parameters:
        run_id: the run's id.
        command: the spec's command, with ${{inputs.x}} / ${{outputs.y}} references.
        snapshot: blob path of the code snapshot (tar.gz).
        inputs: name -> {"kind": "literal", "value": v} | {"kind": "file", "blob": path}
            | {"kind": "folder", "blob": prefix}.
        outputs: names of the job's outputs (folders named_outputs/<name>/).
        experiment_name: MLflow experiment the run's metrics go to.
        timeout_s: wall-clock limit of the run, or None.
        extra_env: environment variables of the spec; they win over mlcycle's own.
        distribution: the job's distribution (see distribution.layout), or None.
        instance_count: how many nodes.
        interpreter: python of the run's environment; None: the host's.
    Returns: the plan; node 0 is the master.
    Raises: PermanentError for an invalid name, an unknown input kind, a reference to
        an input or output the job does not declare, or an impossible distribution.
    """
    resolved = {name: _resolve_input(name, spec) for name, spec in inputs.items()}
    outs = {_checked(name): f"{NODE_DIR}/named_outputs/{name}" for name in outputs}
    base = dict(_io_env(resolved, outs))
    base.update(common_env(run_id, experiment_name))
    extra = {str(k): str(v) for k, v in (extra_env or {}).items()}
    nodes = layout(distribution, instance_count, render_command(command, resolved, outs),
                   exported=sorted({*base, *extra}))

    def process(spec: ProcessSpec) -> ProcessSpec:
        env = {**base, **rank_env(spec.rank), **spec.env, **extra}
        return ProcessSpec(rank=spec.rank, local_rank=spec.local_rank, command=spec.command,
                           env=env)

    staged = {name: {"blob": spec["blob"], "mode": spec["kind"]}
              for name, spec in inputs.items() if spec["kind"] != "literal"}
    return LaunchPlan(run_id=run_id, snapshot=snapshot, inputs=staged,
                      outputs=tuple(outputs), timeout_s=timeout_s, interpreter=interpreter,
                      nodes=tuple(NodeSpec(i, tuple(process(p) for p in node))
                                  for i, node in enumerate(nodes)))


def common_env(run_id: str, experiment_name: str) -> dict[str, str]:
    """What every process of a run gets, whatever its distribution."""
    return {
        "MLCYCLE_RUN_ID": run_id,
        "AZUREML_RUN_ID": run_id,
        "MLFLOW_TRACKING_URI": f"file://{NODE_DIR}/mlruns",
        # MLflow 3 refuses the file store unless told it is wanted.
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "MLFLOW_EXPERIMENT_NAME": experiment_name,
        "PYTHONUNBUFFERED": "1",
    }


def rank_env(rank: int) -> dict[str, str]:
    """Run history holds rank 0's metrics (Azure ML's advice is to log from rank 0 only);
    the other ranks each get a store of their own, kept beside it, so that their points
    do not interleave with rank 0's under the same keys."""
    if rank == 0:
        return {}
    return {"MLFLOW_TRACKING_URI": f"file://{NODE_DIR}/{RANK_STORES}/{rank}"}


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise PermanentError(f"{name!r} is not a valid input or output name")
    return name


def _resolve_input(name: str, spec: dict) -> tuple[str, str]:
    """(text for the command line, value for the environment) of one input."""
    _checked(name)
    kind = spec.get("kind")
    if kind == "literal":
        if "value" not in spec:
            raise PermanentError(f"input {name!r} has no value")
        value = str(spec["value"])
        return shlex.quote(value), value
    if kind not in ("file", "folder") or not spec.get("blob"):
        raise PermanentError(f"input {name!r}: unknown kind {kind!r} or no blob")
    path = f"{NODE_DIR}/inputs/{name}"
    if kind == "file":
        path += "/" + _escape(PurePosixPath(spec["blob"]).name)
    return f'"{path}"', path


def _escape(text: str) -> str:
    """Make text safe inside bash double quotes, where only these four are special."""
    return re.sub(r'(["\\$`])', r"\\\1", text)


def _io_env(inputs: dict[str, tuple[str, str]], outputs: dict[str, str]) -> dict[str, str]:
    env = {f"AZURE_ML_INPUT_{name}": value for name, (_, value) in inputs.items()}
    env.update({f"AZURE_ML_OUTPUT_{name}": path for name, path in outputs.items()})
    return env


def render_command(command: str, inputs: dict[str, tuple[str, str]],
                   outputs: dict[str, str]) -> str:
    """Substitute ${{inputs.x}} and ${{outputs.y}}, and resolve $[[optional]] blocks.

    Parameters: command: the spec's command; inputs: name -> (command text, env value);
        outputs: name -> path.
    Returns: the command bash will run.
    Raises: PermanentError for a reference outside an optional block to something the
        job does not declare.
    """
    def known(kind: str, name: str) -> bool:
        return name in (inputs if kind == "inputs" else outputs)

    def optional(match: re.Match) -> str:
        refs = _REFERENCE.findall(match.group(1))
        return match.group(1) if all(known(k, n) for k, n in refs) else ""

    def reference(match: re.Match) -> str:
        kind, name = match.groups()
        if not known(kind, name):
            raise PermanentError(f"command refers to undeclared {kind}.{name}")
        return inputs[name][0] if kind == "inputs" else f'"{outputs[name]}"'

    return _REFERENCE.sub(reference, _OPTIONAL.sub(optional, command))


def ports_of(plan: LaunchPlan) -> int:
    """How many ports the plan refers to (${MLCYCLE_PORT_<n>}); the executor supplies them."""
    return ports_needed(text for node in plan.nodes for p in node.processes
                        for text in (p.command, *map(str, p.env.values())))


def plan_to_json(plan: LaunchPlan) -> str:
    """The plan as JSON, for plan.json on a node or a Batch task's resource file."""
    return json.dumps(asdict(plan), sort_keys=True, indent=1)


def plan_from_json(text: str | bytes) -> LaunchPlan:
    """Read back what plan_to_json wrote.

    Raises: PermanentError when the text is not a plan.
    """
    try:
        raw = json.loads(text)
        nodes = tuple(
            NodeSpec(index=n["index"],
                     processes=tuple(ProcessSpec(**p) for p in n["processes"]))
            for n in raw["nodes"])
        return LaunchPlan(run_id=raw["run_id"], snapshot=raw["snapshot"],
                          inputs=raw["inputs"], outputs=tuple(raw["outputs"]),
                          nodes=nodes, timeout_s=raw.get("timeout_s"),
                          interpreter=raw.get("interpreter"))
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentError(f"malformed launch plan: {exc!r}") from exc
