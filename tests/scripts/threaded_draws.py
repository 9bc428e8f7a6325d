"""numpy draws inside a tf.data map, through tf.numpy_function: in parallel (--parallel N, TF's
threads take the elements in a varying order) or serially (--parallel 0). Everything is seeded."""

import argparse

import keras
import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--parallel", type=int, default=4)
args = parser.parse_args()

keras.utils.set_random_seed(3)


def jitter(row):
    return row[np.random.permutation(row.shape[0])]  # numpy's global RNG, from whichever thread runs the map


rows = tf.data.Dataset.from_tensor_slices(np.arange(256 * 16, dtype="float32").reshape(256, 16))
rows = rows.map(lambda row: tf.numpy_function(jitter, [row], tf.float32),
                num_parallel_calls=args.parallel or None).batch(32)
for epoch in range(2):
    for batch in rows:
        pass
