"""Two optimizer steps per tf.function call, each step drawing noise with an op-seed-less
tf.random.uniform: the second draw is created after the first step's optimizer update, where
seedcheck adds its own ops. Saves the final weights to argv[1]."""

import sys

import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(5)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
optimizer = keras.optimizers.SGD(0.1)
x = tf.constant(np.linspace(0, 1, 32, dtype=np.float32).reshape(8, 4))


@tf.function
def two_steps(inputs):
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(inputs + tf.random.uniform(tf.shape(inputs)))))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    return loss


for _ in range(5):
    two_steps(x)
np.savez(sys.argv[1], *model.get_weights())
