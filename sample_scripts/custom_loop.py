"""A custom training loop: GradientTape inside a tf.function, Dropout, a shuffled tf.data pipeline.

--seeding keras (default): keras.utils.set_random_seed. seedcheck is expected to find every stage
  reproducible (exit 0): initial values, the Dropout seed, each pass's data order and weights.
--seeding initializers: tf.random.set_seed, and every initializer given an explicit seed, but the
  Dropout layer none. seedcheck is expected to find the initial weights and the data order
  reproducible and the first divergence at the Dropout's seed generator (at the line that made
  it), with the Keras 3 hint: Dropout does not follow tf.random.set_seed. Exit 1.
"""

import argparse

import keras
import numpy as np
import tensorflow as tf

from _toyproblem import CLASSES, FEATURES, make_data

parser = argparse.ArgumentParser()
parser.add_argument("--seeding", choices=["keras", "initializers"], default="keras")
parser.add_argument("--seed", type=int, default=123)
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--save-weights", metavar="NPZ", help="write the final weights here")
args = parser.parse_args()

if args.seeding == "keras":
    keras.utils.set_random_seed(args.seed)
    init = {}
else:
    tf.random.set_seed(args.seed)
    init = {"kernel_initializer": keras.initializers.GlorotUniform(seed=args.seed)}

x, y = make_data()
dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(256, seed=args.seed).batch(32)
model = keras.Sequential([
    keras.Input((FEATURES,)),
    keras.layers.Dense(64, activation="relu", **init),
    keras.layers.Dropout(0.3),
    keras.layers.Dense(CLASSES, **init),
])
optimizer = keras.optimizers.Adam(1e-3)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@tf.function
def train_step(xb, yb):
    with tf.GradientTape() as tape:
        loss = loss_fn(yb, model(xb, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


for epoch in range(args.epochs):
    for xb, yb in dataset:
        loss = train_step(xb, yb)
    print(f"epoch {epoch + 1} loss {float(loss):.6f}")

if args.save_weights:
    np.savez(args.save_weights, *model.get_weights())
