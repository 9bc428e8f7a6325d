"""Test-time noise inside a tf.function: tf.image.random_brightness with no seed, and TensorFlow
never seeded (Python and numpy are). Its draws differ in every run and reach no recorded stage.
`--seeded` seeds TensorFlow first: the op takes its seed from the global one."""
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


print(float(tf.reduce_sum(brighter(tf.zeros([2, 4, 4, 3])))))
