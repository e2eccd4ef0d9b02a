"""The benchmark suite's quick run, so the suite never rots: every area runs and yields
well-formed figures, and the markdown renders. Nothing here is about speed."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report

ROOT = Path(__file__).resolve().parents[2]
AREAS = ("payoff", "events", "registration", "scoring", "memory", "jobs", "coldstart",
         "sweeps")


def is_summary(value) -> bool:
    return (isinstance(value, dict) and value["n"] >= 1
            and value["min"] <= value["median"] <= value["max"])


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    markdown = out / "BENCHMARKS.md"
    markdown.write_text("# Benchmarks\n\nProse written by hand.\n")
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out",
                           str(out / "results.json"), "--markdown", str(markdown)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((out / "results.json").read_text()), markdown.read_text()


def test_every_area_runs_and_reports_medians_with_their_spread(quick):
    results, _ = quick
    areas = results["areas"]
    assert all(area in areas and "error" not in areas[area] for area in AREAS)
    assert results["machine"]["cores"] >= 1 and results["machine"]["python"]
    for figures in areas["scoring"]["configs"].values():
        assert is_summary(figures["rps"]) and is_summary(figures["p50_ms"])
        assert figures["errors"] == 0
    assert is_summary(areas["jobs"]["overhead_s"])
    assert is_summary(areas["registration"]["frameworks"]["sklearn"]["to_live_s"])
    assert is_summary(areas["events"]["hop_ms"])
    assert is_summary(areas["coldstart"]["idle_rss_mib"])
    memory = areas["memory"]
    assert memory["endpoints"] == 2 and memory["rss_after_mib"] > 0
    assert is_summary(memory["deploy_s"])
    for c in areas["scoring"]["comparisons"]:
        assert is_summary(c["rps_vs_constant"]) and is_summary(c["p50_vs_floor"])
    assert all(is_summary(v["speedup"]) for v in areas["payoff"].values())
    for config in areas["sweeps"]["configs"].values():
        assert is_summary(config["random_regret"]) and is_summary(config["bayesian_regret"])
        assert config["random_regret"]["min"] >= 0 and 0 <= config["bayesian_wins"] <= 1


def test_the_markdown_gets_its_tables_and_keeps_the_prose_around_them(quick):
    results, markdown = quick
    assert markdown.startswith("# Benchmarks\n\nProse written by hand.\n")
    assert report.BEGIN in markdown and report.END in markdown
    for title in ("### Goals", "### 1. Scoring", "### 2. Job overhead",
                  "### 6. ONNX pay-off", "### 8. Memory per deployment"):
        assert title in markdown
    assert "| mlcycle | sklearn | 1 | 1 |" in markdown


def test_regenerating_replaces_the_tables_and_nothing_else(quick, tmp_path):
    results, markdown = quick
    target = tmp_path / "B.md"
    target.write_text(markdown + "\nA closing note.\n")
    results["machine"]["cpu"] = "A different CPU"
    report.update(target, results)
    text = target.read_text()
    assert text.count(report.BEGIN) == 1 and "A different CPU" in text
    assert text.endswith("A closing note.\n") and "Prose written by hand." in text


def test_the_payload_costs_are_measured_per_batch_and_grow_with_it():
    from bench import payload

    small, large = payload.measure(1, min_s=0.01, repeats=1), payload.measure(64, min_s=0.01,
                                                                             repeats=1)
    assert large["body_kib"] > 20 * small["body_kib"]
    for key in ("orjson_loads_ms", "np_asarray_ms", "np_fromstring_ms"):
        assert is_summary(small[key]) and is_summary(large[key])
    assert large["orjson_loads_ms"]["median"] > small["orjson_loads_ms"]["median"]
