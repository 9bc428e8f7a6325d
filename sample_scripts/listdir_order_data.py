"""Data loaded from a directory of shard files in the order `os.listdir` returns them.

The file system fixes no order for a directory listing: ext4 lists by a hash of each name, tmpfs by
creation, another machine's file system differently again. Everything here is fully seeded and the
model trains without shuffling, so on one machine every run agrees; on another, the shards come in
another order and so do the batches.

seedcheck is expected to find: `seedcheck run` reproducible (exit 0, one machine, one order), and
`seedcheck vary` unreproducible when varying `listdir` only (directory listings reversed, as
reprotest does with disorderfs): the data order of the first epoch differs first. The fix: sort the
listing (`sorted(os.listdir(...))`). With --gfile the shards are listed by `tf.io.gfile.glob`, which
promises no order either: the same answer.
"""

import argparse
import os
import tempfile

import keras
import numpy as np

from _toyproblem import CLASSES, FEATURES, make_model

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=123)
parser.add_argument("--gfile", action="store_true", help="list with tf.io.gfile.glob instead of os.listdir")
args = parser.parse_args()

keras.utils.set_random_seed(args.seed)

# As if a preprocessing job had written one shard per source: here, a fresh directory per run
# (seedcheck gives each run its own), written in the same order every time.
shard_dir = os.path.join(os.environ.get("SEEDCHECK_RUN_DIR") or tempfile.mkdtemp(), "shards")
os.makedirs(shard_dir, exist_ok=True)
for index, name in enumerate(["north", "south", "east", "west", "centre", "coast"]):
    rng = np.random.default_rng(index)
    np.savez(os.path.join(shard_dir, f"{name}.npz"), x=rng.normal(size=(64, FEATURES)).astype("float32"),
             y=rng.integers(0, CLASSES, size=64))

if args.gfile:
    import tensorflow as tf

    names = [os.path.basename(path) for path in tf.io.gfile.glob(os.path.join(shard_dir, "*.npz"))]
else:
    names = os.listdir(shard_dir)
shards = [np.load(os.path.join(shard_dir, name)) for name in names]  # no order promised
x = np.concatenate([shard["x"] for shard in shards])
y = np.concatenate([shard["y"] for shard in shards])

model = make_model()
model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
