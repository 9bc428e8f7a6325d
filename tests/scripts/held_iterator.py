"""Two training phases through iterators the script holds (`it = iter(dataset)`, then `next(it)`),
neither read to its end: phase 1 from a shuffle with its own seed, phase 2 from a shuffle with
none (no TensorFlow seed is set; the initializers have their own seeds).

Phase 1 is the same in every run and phase 2 is not. Both passes are recorded at the exit, as
partial passes; seedcheck is expected to put the first divergence at phase 2's data, not at
phase 1's row with the final weights in it.
"""

import keras
import numpy as np
import tensorflow as tf

data = np.random.default_rng(3)
x = data.normal(size=(96, 6)).astype("float32")
y = (x.sum(axis=1) > 0).astype("float32")[:, None]
phase1 = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(96, seed=1).batch(16).repeat()
phase2 = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(96).batch(16).repeat()
model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=1))])
optimizer = keras.optimizers.SGD(0.05)


@tf.function
def step(features, labels):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.binary_crossentropy(labels, model(features), from_logits=True))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))


first = iter(phase1)
for _ in range(10):
    step(*next(first))
second = iter(phase2)
for _ in range(10):
    step(*next(second))
