"""`mlcycle demo`, the main job, end to end on a fresh data root."""
import pytest

from shared.demo import main

pytestmark = pytest.mark.e2e


def test_the_demo_runs_the_whole_lifecycle_and_scores_above_0_9(tmp_path, capsys):
    assert main(data_root=str(tmp_path)) == 0
    out = capsys.readouterr().out
    accuracy = float(out.rsplit("held-out digits:", 1)[1].split()[0])
    assert accuracy >= 0.9
    for stage in ("data register", "job (submit to done)", "onnx convert", "deploy",
                  "score over HTTP"):
        assert stage in out
