"""Trains eagerly, then saves in a `finally` block to a directory that does not exist. Under
--max-steps the stop ends training and the save still fails: the run fails, as under python."""
import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(1)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
optimizer = keras.optimizers.SGD(0.1)
x = np.ones((8, 4), "float32")
try:
    for _ in range(20):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x)))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
finally:
    np.save("/nonexistent-seedcheck-dir/weights.npy", model.get_weights()[0])
