"""Example 1 of the well-known article on the random seed in TensorFlow: a Dense layer's initial
kernel after tf.random.set_seed, on Keras 3.

On Keras 3 a bare layer is built lazily, so it is built explicitly here (`input_shape` on a bare
layer no longer builds it). The layer is never trained and never part of a model: seedcheck
checks its kernel when the variable is created.

seedcheck is expected to find: init of dense/kernel DIVERGED (the first divergence), with the
Keras 3 hint (tf.random.set_seed does not seed Keras initializers). The bias (zeros) is
reproducible. Exit 1.
"""

import tensorflow as tf

tf.random.set_seed(123)
layer = tf.keras.layers.Dense(units=10)
layer.build((None, 5))
print(layer.weights[0].numpy()[0])
