"""A whole epoch inside one tf.function: `for features, labels in dataset` is traced into the graph,
and Python sees one call per epoch, not one per step. --take N trains on N batches only, to compare
with `seedcheck run --max-steps N`.
"""

import argparse

import keras
import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--take", type=int, default=-1)
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()
keras.utils.set_random_seed(4)
x = np.random.normal(size=(200, 6)).astype("float32")
y = (x[:, 0] > x[:, 1]).astype("float32")[:, None]
dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(200, seed=5).batch(20).take(args.take)
model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(10, activation="relu"), keras.layers.Dense(1)])
optimizer = keras.optimizers.Adam(0.01)
loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)


@tf.function
def train_epoch():
    for features, labels in dataset:
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(features))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))


for _ in range(args.epochs):
    train_epoch()
