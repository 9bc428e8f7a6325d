"""Noise augmentation drawn from numpy's global RNG, which the script never seeds.

The script seeds Python's `random` and TensorFlow (random.seed, tf.random.set_seed): under Keras 3
that fixes the initial weights and Dropout, whose default seeds Keras draws from Python's
`random`. But each epoch's inputs get Gaussian noise from np.random.normal, which neither call
reaches.

seedcheck is expected to find: initial weights reproducible; the first divergence at the
np.random.normal call (a draw from numpy's global RNG, which nothing seeds), with the fix to seed
it (keras.utils.set_random_seed seeds all three). The data and weights of every epoch diverge as
a consequence. Exit 1. With --seeding full the script calls keras.utils.set_random_seed instead:
reproducible, exit 0.
"""

import argparse
import random

import keras
import numpy as np
import tensorflow as tf

from _toyproblem import make_data, make_model

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=123)
parser.add_argument("--seeding", choices=["python-and-tf", "full"], default="python-and-tf")
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()

if args.seeding == "full":
    keras.utils.set_random_seed(args.seed)
else:
    random.seed(args.seed)
    tf.random.set_seed(args.seed)

x, y = make_data()
model = make_model()
for epoch in range(args.epochs):
    noisy = x + np.random.normal(0.0, 0.1, size=x.shape).astype("float32")
    model.fit(noisy, y, batch_size=32, epochs=1, shuffle=True, verbose=0)
print("final accuracy", model.evaluate(x, y, verbose=0)[1])
