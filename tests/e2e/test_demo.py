"""`mlcycle demo`, the main job, end to end on a fresh data root: scikit-learn, PyTorch
and Keras jobs trained, converted, deployed and scored."""
import contextlib
import io

import pytest

from shared.demo import main

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's exit status and what it printed; it runs once for the module."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(data_root=str(tmp_path_factory.mktemp("demo")))
    return status, out.getvalue()


def test_the_demo_runs_the_whole_lifecycle_and_scores_above_0_9(demo):
    status, out = demo
    assert status == 0
    accuracy = float(out.rsplit("held-out digits:", 1)[1].split()[0])
    assert accuracy >= 0.9
    for stage in ("data register", "job (submit to done)", "onnx convert", "deploy",
                  "score over HTTP"):
        assert stage in out


def test_the_demo_serves_a_pytorch_and_a_keras_model_beside_scikit_learn(demo):
    _, out = demo
    table = out.split("endpoint        framework      accuracy\n")[1]
    rows = [line.split() for line in table.splitlines()[:3]]
    assert [(endpoint, framework) for endpoint, framework, _ in rows] == [
        ("digits", "scikit-learn"), ("digits-torch", "PyTorch"), ("digits-keras", "Keras")]
    assert all(float(accuracy) >= 0.9 for _, _, accuracy in rows)
