"""Fingerprint candidates on 1M- and 10M-parameter float32 weights: MB/s of each, median of
several repeats. What the hook uses (XXH3-128 over the buffer in place) should win; an in-graph
`tf.fingerprint` is measured for comparison when TensorFlow is installed. Also the whole summary
a weight snapshot records per variable (`summarize`: fingerprint, float64 L2 norm, sample), whose
norm costs more than the hash.
Run: `.venv/bin/python benchmarks/fingerprints.py`.
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import xxhash

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from seedcheck.fingerprint import array_fingerprint, summarize  # noqa: E402


def measure(function: Callable[[], Any], nbytes: int, repeats: int = 7) -> float:
    function()  # warm up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return nbytes / statistics.median(times) / 1e6


def main() -> None:
    rng = np.random.default_rng(0)
    for params in (1_000_000, 10_000_000):
        weights = rng.standard_normal(params).astype(np.float32)
        view = weights.view(np.uint8).data
        candidates: dict[str, Callable[[], Any]] = {
            "xxh3_128 (in place)": lambda: xxhash.xxh3_128(view).hexdigest(),
            "seedcheck array_fingerprint": lambda: array_fingerprint(weights),
            "seedcheck summarize (+ norm)": lambda: summarize("w", weights),
            "xxh3_64": lambda: xxhash.xxh3_64(view).hexdigest(),
            "blake2b": lambda: hashlib.blake2b(view).hexdigest(),
            "sha256": lambda: hashlib.sha256(view).hexdigest(),
        }
        try:
            import os

            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            import tensorflow as tf

            variable = tf.Variable(weights)
            fingerprint = tf.function(lambda: tf.fingerprint(tf.reshape(variable, [1, -1])))
            candidates["tf.fingerprint in-graph"] = lambda: fingerprint().numpy()
            candidates["variable.numpy() + xxh3_128"] = lambda: xxhash.xxh3_128(variable.numpy().data).hexdigest()
        except ImportError:
            pass
        print(f"{params / 1e6:.0f}M float32 parameters ({weights.nbytes / 1e6:.0f} MB):")
        for name, function in candidates.items():
            print(f"  {name:<30} {measure(function, weights.nbytes):>9,.0f} MB/s")


if __name__ == "__main__":
    main()
