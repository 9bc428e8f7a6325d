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
