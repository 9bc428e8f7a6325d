"""Two optimizers taking turns, as a GAN's generator and discriminator do: odd steps update one
model, even steps the other, each in its own tf.function (--together: both in one tf.function)."""
import sys

import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(3)
x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
dataset = tf.data.Dataset.from_tensor_slices(x).batch(16)
first = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
second = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
opt_first, opt_second = keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1)


def train(model, optimizer):
    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(batch)))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    return step


step_first, step_second = train(first, opt_first), train(second, opt_second)
if "--together" in sys.argv:
    @tf.function
    def both(batch):
        for model, optimizer in ((first, opt_first), (second, opt_second)):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(model(batch)))
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))

    for batch in dataset:
        both(batch)
else:
    for batch in dataset:
        step_first(batch)
        step_second(batch)
print("trained")
