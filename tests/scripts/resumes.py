"""Resumes training from the latest checkpoint in --ckpt if there is one, trains a few steps and
saves a checkpoint there: the usual "pick up where the last run stopped". Given a directory the
runs share, the second run resumes from the first one's checkpoint; given {run_dir}/ckpt, each run
starts afresh. With --reload the run then reads back what it has just saved (the checkpoint, and
the model as a .keras file): its own files, which are no other run's state.
"""

import argparse
import os

import keras
import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--ckpt", required=True)
parser.add_argument("--reload", action="store_true")
args = parser.parse_args()
keras.utils.set_random_seed(1)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
optimizer = keras.optimizers.SGD(0.1)
checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
manager = tf.train.CheckpointManager(checkpoint, args.ckpt, max_to_keep=2)
if manager.latest_checkpoint:
    checkpoint.restore(manager.latest_checkpoint)
x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
for _ in range(5):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - 1.0) ** 2)
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
saved = manager.save()
if args.reload:
    checkpoint.restore(saved)
    model.save(os.path.join(args.ckpt, "model.keras"))
    keras.models.load_model(os.path.join(args.ckpt, "model.keras"))
