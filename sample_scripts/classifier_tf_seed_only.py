"""The same classifier, seeded only with tf.random.set_seed: the habit from TF 2.x / Keras 2.

Under Keras 3 (TF 2.16+), tf.random.set_seed does not reach layer initializers or Dropout: they
draw their seeds from Python's `random`, which nothing seeds here.

seedcheck is expected to find: the weights DIVERGED from the very first stage, the Dense kernels'
initial values (first divergence: init of sequential/dense/kernel), and the Keras 3 hint: use
keras.utils.set_random_seed. Exit 1. The batch order of the first epoch is reproducible:
fit(shuffle=True) on arrays shuffles with tf.random.shuffle, which does follow the TF seed.
"""

import argparse

import tensorflow as tf

from _toyproblem import make_model, train

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=123)
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()

tf.random.set_seed(args.seed)
train(make_model(), args.epochs)
