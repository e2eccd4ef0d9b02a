"""Launch plans: command substitution, the environment of each process, JSON round trips."""
from __future__ import annotations

import json
import shlex

import pytest

from shared.domain.errors import PermanentError
from shared.runner.plan import build_plan, plan_from_json, plan_to_json

INPUTS = {
    "lr": {"kind": "literal", "value": 0.01},
    "note": {"kind": "literal", "value": "it's a $HOME; rm -rf /"},
    "train": {"kind": "file", "blob": "datasets/iris/1/iris.csv"},
    "images": {"kind": "folder", "blob": "datasets/digits/2"},
}


def plan(command: str, inputs: dict = INPUTS, outputs=("model",), **kw):
    return build_plan("run-1", command=command, snapshot="snapshots/abc.tar.gz",
                      inputs=inputs, outputs=list(outputs), experiment_name="iris", **kw)


def only_process(p):
    (node,) = p.nodes
    (process,) = node.processes
    return process


def test_literal_inputs_are_shell_quoted_into_the_command():
    command = only_process(
        plan("python train.py --lr ${{inputs.lr}} --note ${{inputs.note}}")).command

    assert shlex.split(command) == ["python", "train.py", "--lr", "0.01",
                                    "--note", "it's a $HOME; rm -rf /"]


def test_file_and_folder_inputs_and_outputs_become_node_paths_bash_expands():
    command = only_process(plan(
        "python t.py --data ${{inputs.train}} --images ${{ inputs.images }} "
        "--out ${{outputs.model}}")).command

    assert command == ('python t.py --data "${MLCYCLE_NODE_DIR}/inputs/train/iris.csv" '
                       '--images "${MLCYCLE_NODE_DIR}/inputs/images" '
                       '--out "${MLCYCLE_NODE_DIR}/named_outputs/model"')


def test_a_file_name_with_shell_characters_stays_one_quoted_word():
    inputs = {"f": {"kind": "file", "blob": 'datasets/x/1/a "b" $c`d`.csv'}}
    command = only_process(plan("cat ${{inputs.f}}", inputs=inputs)).command

    assert command == 'cat "${MLCYCLE_NODE_DIR}/inputs/f/a \\"b\\" \\$c\\`d\\`.csv"'


def test_only_file_and_folder_inputs_are_staged():
    p = plan("true")

    assert p.inputs == {"train": {"blob": "datasets/iris/1/iris.csv", "mode": "file"},
                        "images": {"blob": "datasets/digits/2", "mode": "folder"}}
    assert p.outputs == ("model",)
    assert p.snapshot == "snapshots/abc.tar.gz"


def test_each_process_knows_its_run_rank_mlflow_store_and_io_paths():
    env = only_process(plan("true")).env

    assert env["MLCYCLE_RUN_ID"] == env["AZUREML_RUN_ID"] == "run-1"
    assert env["MLFLOW_TRACKING_URI"] == "file://${MLCYCLE_NODE_DIR}/mlruns"
    assert env["MLFLOW_ALLOW_FILE_STORE"] == "true"
    assert env["MLFLOW_EXPERIMENT_NAME"] == "iris"
    assert (env["RANK"], env["LOCAL_RANK"], env["WORLD_SIZE"]) == ("0", "0", "1")
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["AZURE_ML_INPUT_lr"] == "0.01"
    assert env["AZURE_ML_INPUT_train"] == "${MLCYCLE_NODE_DIR}/inputs/train/iris.csv"
    assert env["AZURE_ML_INPUT_images"] == "${MLCYCLE_NODE_DIR}/inputs/images"
    assert env["AZURE_ML_OUTPUT_model"] == "${MLCYCLE_NODE_DIR}/named_outputs/model"


def test_the_specs_environment_variables_win():
    env = only_process(plan("true", extra_env={"MLFLOW_TRACKING_URI": "http://mlflow:5000",
                                               "SEED": "7"})).env

    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert env["SEED"] == "7"


def test_optional_blocks_are_kept_only_when_their_inputs_are_given():
    command = only_process(plan(
        "python t.py $[[--lr ${{inputs.lr}}]] $[[--seed ${{inputs.seed}}]]")).command

    assert command == "python t.py --lr 0.01 "


@pytest.mark.parametrize("command", ["python t.py ${{inputs.missing}}",
                                     "python t.py ${{outputs.nothing}}"])
def test_a_reference_to_something_undeclared_is_a_permanent_error(command):
    with pytest.raises(PermanentError, match="undeclared"):
        plan(command)


@pytest.mark.parametrize("inputs, outputs", [
    ({"bad-name": {"kind": "literal", "value": 1}}, ()),
    ({"x": {"kind": "uri_magic", "blob": "a/b"}}, ()),
    ({"x": {"kind": "file"}}, ()),
    ({"x": {"kind": "literal"}}, ()),
    ({}, ("no/slashes",)),
])
def test_invalid_inputs_and_outputs_are_permanent_errors(inputs, outputs):
    with pytest.raises(PermanentError):
        plan("true", inputs=inputs, outputs=outputs)


def test_a_plan_survives_a_json_round_trip():
    original = plan("python t.py ${{inputs.train}}", timeout_s=60.0)
    text = plan_to_json(original)

    assert json.loads(text)["run_id"] == "run-1"
    assert plan_from_json(text) == original


def test_reading_a_malformed_plan_is_a_permanent_error():
    with pytest.raises(PermanentError):
        plan_from_json('{"run_id": "x"}')
