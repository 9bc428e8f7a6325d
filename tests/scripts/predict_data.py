"""A short custom loop, then `model.predict` over a tf.data pipeline. Keras reads predict's batches
eagerly and stops at the dataset's known length, so no StopIteration ends that pass: seedcheck is
expected to record it as predict's own data stage at its line, with no weights of its own.

--shuffle seeded: the data to predict on is shuffled with its own seed, the same in every run.
--shuffle unseeded: with none (TensorFlow's global seed is not set either): another order each run.
"""

import argparse

import keras
import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--shuffle", choices=["seeded", "unseeded"], default="seeded")
args = parser.parse_args()

rows = np.random.default_rng(5)
x = rows.normal(size=(128, 6)).astype("float32")
y = (x.sum(axis=1) > 0).astype("float32")[:, None]
train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(128, seed=1).batch(16)
model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=1))])
optimizer = keras.optimizers.SGD(0.05)


@tf.function
def step(features, labels):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.binary_crossentropy(labels, model(features), from_logits=True))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))


for features, labels in train:
    step(features, labels)

queries = tf.data.Dataset.from_tensor_slices(x).shuffle(128, seed=2 if args.shuffle == "seeded" else None).batch(32)
scores = model.predict(queries, verbose=0)
print(f"mean score {float(scores.mean()):.6f}")
