"""Shards read through tf.data.Dataset.list_files, which shuffles the names it lists unless told
shuffle=False; Python's `random` is seeded, TensorFlow is not. The shards are written fresh in
each run's own directory.

seedcheck is expected to name list_files (not a Dataset.shuffle the script never calls), with its
own arguments as the fix; with --sorted (shuffle=False) the runs agree.
"""

import os
import random
import sys

import tensorflow as tf

random.seed(0)
shards = os.path.join(os.environ.get("SEEDCHECK_RUN_DIR", "."), "shards")
os.makedirs(shards, exist_ok=True)
for index in range(8):
    with open(os.path.join(shards, f"part-{index}.csv"), "w") as shard:
        shard.writelines(f"{index},{row}\n" for row in range(4))
files = tf.data.Dataset.list_files(os.path.join(shards, "part-*.csv"), shuffle="--sorted" not in sys.argv)
rows = files.interleave(tf.data.TextLineDataset, cycle_length=2).batch(4)
for batch in rows:
    pass
