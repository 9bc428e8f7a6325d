"""Data assembled by iterating a set of strings: its order follows Python's string hashing.

Python randomizes str hashes per process unless PYTHONHASHSEED is set, so iterating a set of
file or class names gives a different order in each run. Everything else is fully seeded and the
model trains without shuffling, so the order of the data is all that differs.

seedcheck is expected to find (with PYTHONHASHSEED unset): initial weights reproducible, the
first divergence at the data order of the first epoch, and the hint that the order depends on
Python's hash order: sort the names, or set PYTHONHASHSEED. Exit 1. With PYTHONHASHSEED=0 in the
environment: reproducible, exit 0.
"""

import argparse

import keras
import numpy as np

from _toyproblem import CLASSES, FEATURES, make_model

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=123)
args = parser.parse_args()

keras.utils.set_random_seed(args.seed)

# As if loading one shard per source: a set removes duplicate names, and fixes no order.
sources = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}
shards_x, shards_y = [], []
for name in sources:
    rng = np.random.default_rng(sum(map(ord, name)))  # each shard's content depends on its name only
    shards_x.append(rng.normal(size=(64, FEATURES)).astype("float32"))
    shards_y.append(rng.integers(0, CLASSES, size=64))
x, y = np.concatenate(shards_x), np.concatenate(shards_y)

model = make_model()
model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
