"""Checks that cost less than full runs: --max-steps ends training after exactly N optimizer steps
with a complete, readable trace; --fail-fast stops once a divergence is certain."""

from __future__ import annotations

import pytest

from conftest import SAMPLES, seedcheck_json
from seedcheck.trace import read_trace

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("script", "data_key"), [
    ("classifier_fully_seeded.py", "data/fit#1/epoch-1"),
    ("custom_loop.py", "data/loop@sample_scripts/custom_loop.py:55/pass-1"),  # a GradientTape loop in a tf.function
])
def test_max_steps_stops_training_at_exactly_n_steps(tmp_path, script, data_key):
    result = seedcheck_json("run", SAMPLES / script, "--seed", "1", "--repeats", "2", "--max-steps", "7",
                            tmp_path=tmp_path)
    assert result.code == 0, result.stdout + result.stderr
    assert "training stopped after 7 steps (--max-steps)" in " ".join(result.stdout.split())
    trace = read_trace(tmp_path / "runs" / "s1-1.jsonl")
    assert not trace.torn_tail
    exit_event = trace.find("exit")
    assert exit_event is not None and exit_event.value == 0
    assert exit_event.detail["steps"] == 7 and exit_event.detail["stopped"] is True
    data = trace.find(data_key)
    assert data is not None and data.detail["batches"] == 7  # the batches of exactly 7 steps, no more
    assert trace.find("data/fit#1/epoch-2") is None
    assert result.stage(data_key)["verdict"] == "reproducible"
    assert [s["key"] for s in result.report["stages"] if s["key"].startswith("weights/final/")]
