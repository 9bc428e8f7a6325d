"""A custom loop over an endless dataset (`repeat()`), left with `break` after a number of steps:
the pass never reaches its end. A second endless pass follows, also left with `break`, drawing
from tf.random in its body: the first pass must be recorded before that draw, not at the exit. Python and numpy are seeded (Keras 3 initializers follow Python's
`random`), TensorFlow is not, so the unseeded Dataset.shuffle orders the data differently each run."""
import random

import keras
import numpy as np
import tensorflow as tf

random.seed(0)
np.random.seed(0)
x = np.random.rand(64, 4).astype("float32")
y = np.random.rand(64, 1).astype("float32")
dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64).batch(8).repeat()
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
optimizer = keras.optimizers.SGD(0.1)


@tf.function
def step(features, labels):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(features) - labels) ** 2)
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    return loss


for number, (features, labels) in enumerate(dataset):
    step(features, labels)
    if number == 11:
        break
features_only = tf.data.Dataset.from_tensor_slices(x).batch(8).repeat()
for number, features in enumerate(features_only):
    tf.random.uniform([1], seed=1)  # eager, op-seeded: the same draw each run
    if number == 2:
        break
print(float(model.layers[0].kernel.numpy().sum()))
