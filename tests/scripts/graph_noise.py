"""Random ops inside tf.functions, TensorFlow never seeded (Python and numpy are): test-time noise
with tf.image.random_brightness and a candidate sampler, both with no seed (their draws differ in
every run and reach no recorded stage), and noise in an XLA-compiled function (which repeats).
`--seeded` seeds TensorFlow first: the ops take their seeds from the global one."""
import random
import sys

import numpy as np
import tensorflow as tf

random.seed(0)
np.random.seed(0)
if "--seeded" in sys.argv:
    tf.random.set_seed(0)


@tf.function
def brighter(images):
    return tf.image.random_brightness(images, 0.3)


@tf.function
def sampled(x):
    ids, _, _ = tf.random.log_uniform_candidate_sampler(tf.constant([[1]], tf.int64), 1, 5, True, 100)
    return x + tf.cast(tf.reduce_sum(ids), tf.float32)


@tf.function(jit_compile=True)
def compiled(x):
    return x + tf.random.uniform(tf.shape(x))


print(float(tf.reduce_sum(brighter(tf.zeros([2, 4, 4, 3])))), float(sampled(1.0)), float(compiled(1.0)))
