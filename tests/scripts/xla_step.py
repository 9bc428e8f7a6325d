"""A jit-compiled (XLA) training step called from Python, 120 times: nothing can be added to a
compiled graph, so seedcheck counts its calls in Python for --every and --max-steps."""
import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(2)
x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
optimizer = keras.optimizers.SGD(0.01)


@tf.function(jit_compile=True)
def step(batch):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(batch)))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))


for _ in range(120):
    step(x)
print("trained 120 steps")
