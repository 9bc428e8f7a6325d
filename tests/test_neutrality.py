"""The hook must not change what a script computes: final weights bitwise identical with and
without seedcheck, and the same printed results."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, seedcheck

pytestmark = pytest.mark.e2e


def test_fit_final_weights_are_bitwise_identical_under_seedcheck(tmp_path):
    script = "sample_scripts/classifier_fully_seeded.py"
    plain = subprocess.run([sys.executable, script, "--seed", "123", "--epochs", "2", "--save-weights",
                            tmp_path / "plain.npz"], cwd=REPO, capture_output=True, text=True, check=True,
                           stdin=subprocess.DEVNULL)
    result = seedcheck("run", script, "--seed", "123", "--repeats", "1", "--save", tmp_path / "runs", "-q",
                       "--", "--seed", "{seed}", "--epochs", "2", "--save-weights", tmp_path / "hooked.npz")
    assert result.code == 0, result.stdout + result.stderr
    plain_weights = np.load(tmp_path / "plain.npz")
    hooked_weights = np.load(tmp_path / "hooked.npz")
    assert plain_weights.files == hooked_weights.files and len(plain_weights.files) == 6
    for name in plain_weights.files:
        a, b = plain_weights[name], hooked_weights[name]
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes(), f"{name} differs under seedcheck"
    assert (tmp_path / "runs" / "s123-1.stdout.log").read_text() == plain.stdout


def test_ops_added_after_a_step_leave_later_random_ops_unchanged(tmp_path):
    """TF derives an op-seed-less random op's seed from a per-graph count of seeded ops, not from
    the op count: the counter, tf.cond and summary ops seedcheck adds after `optimizer.apply`
    (with --every 1, on every step) must not change the noise a later draw in the same graph makes."""
    script = "tests/scripts/random_after_step.py"
    subprocess.run([sys.executable, script, tmp_path / "plain.npz"], cwd=REPO, check=True, capture_output=True,
                   stdin=subprocess.DEVNULL)
    result = seedcheck("run", script, "--seed", "5", "--repeats", "1", "--every", "1", "--save", tmp_path / "runs",
                       "-q", "--", tmp_path / "hooked.npz")
    assert result.code == 0, result.stdout + result.stderr
    trace = (tmp_path / "runs" / "s5-1.jsonl").read_text()
    assert trace.count('"weights/step-') == 10  # 5 calls x 2 steps: the added ops did run
    plain, hooked = np.load(tmp_path / "plain.npz"), np.load(tmp_path / "hooked.npz")
    assert len(plain.files) == 2
    for name in plain.files:
        assert plain[name].tobytes() == hooked[name].tobytes(), name


@pytest.mark.parametrize(("args", "printed"), [([], "True 1\n"), (["off"], "False 1\n")])
def test_the_garbage_collector_is_left_as_the_script_had_it_after_importing_tensorflow(tmp_path, args, printed):
    """The hook pauses it while TensorFlow is imported (hook/patches.py), and only then."""
    result = seedcheck("run", "tests/scripts/gc_state.py", "--repeats", "1", "--save", tmp_path, "-q", "--", *args)
    assert result.code == 0, result.stderr
    assert (tmp_path / "own-1.stdout.log").read_text() == printed
