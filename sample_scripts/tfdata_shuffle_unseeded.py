"""A tf.data pipeline shuffled without a seed, in a script that seeds Python and numpy only.

Keras 3 initializers and Dropout take their seeds from Python's `random`, so the model starts
the same in every run. But Dataset.shuffle without an op seed, and with no TensorFlow global seed,
draws a fresh order in every process.

seedcheck is expected to find: initial weights reproducible, the first divergence at the data
order of the first epoch, and the hint naming the unseeded Dataset.shuffle call site. Exit 1.
"""

import argparse
import random

import numpy as np
import tensorflow as tf

from _toyproblem import make_data, make_model

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=123)
args = parser.parse_args()

random.seed(args.seed)
np.random.seed(args.seed)

x, y = make_data()
dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(512).batch(32)
model = make_model()
model.fit(dataset, epochs=2, verbose=0)
