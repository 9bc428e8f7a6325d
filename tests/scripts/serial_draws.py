"""A map drawing from TensorFlow's global RNG, given num_parallel_calls: two calls, one call, or two
under op determinism (TF then runs a map with stateful ops one element at a time). The argument
names one of them, or several comma-separated: as many pipelines, each read in turn in the loop
below (op determinism, once on, stays on: give `determinism` last)."""
import sys

import tensorflow as tf

tf.random.set_seed(1)
for how in sys.argv[1].split(","):
    if how == "determinism":
        tf.config.experimental.enable_op_determinism()
    calls = 1 if how == "one" else 2
    noisy = tf.data.Dataset.range(16).map(lambda i: tf.cast(i, tf.float32) + tf.random.uniform([]), num_parallel_calls=calls)
    for batch in noisy.batch(4):
        pass
