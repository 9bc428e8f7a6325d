"""A small Keras classifier (MLP with Dropout, fit with shuffle=True), seeded the Keras 3 way.

keras.utils.set_random_seed seeds Python's `random` (which Keras 3 initializers and Dropout draw
their seeds from), NumPy and TensorFlow in one call.

seedcheck is expected to find: every stage reproducible (exit 0). With `--seed 1 --seed 2` the
weights differ between seeds and are equal within a seed ("reproducible, varies by seed").
"""

import argparse

import keras

from _toyproblem import make_model, train

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=123)
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--save-weights", metavar="NPZ", help="write the final weights here")
args = parser.parse_args()

keras.utils.set_random_seed(args.seed)
train(make_model(), args.epochs, save_weights=args.save_weights)
