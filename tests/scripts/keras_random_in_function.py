"""keras.random.normal with no seed= inside a tf.function, after training: it draws from Keras's
global SeedGenerator, made while the function is traced and seeded from Python's `random`, which
this script leaves unseeded (it seeds TensorFlow and numpy only). The weights repeat, the noisy
score does not. `--seeded` seeds with keras.utils.set_random_seed instead."""
import sys

import keras
import numpy as np
import tensorflow as tf

if "--seeded" in sys.argv:
    keras.utils.set_random_seed(0)
else:
    tf.random.set_seed(0)
    np.random.seed(0)
x = np.random.normal(size=(64, 4)).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, kernel_initializer=keras.initializers.Ones())])


@tf.function
def noisy_score(inputs):
    return tf.reduce_mean(model(inputs + keras.random.normal(keras.ops.shape(inputs), stddev=0.5)))


print(float(noisy_score(tf.constant(x))))
