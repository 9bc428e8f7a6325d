"""The data is shuffled with numpy before anything is seeded; the script seeds only afterwards.

A common slip: a train/validation split made from np.random.permutation at the top of the
script, and keras.utils.set_random_seed called later, just before the model is built. Training
itself is fully seeded, but which examples it sees is not.

seedcheck is expected to find: the first divergence at the np.random.permutation call (an unseeded
numpy draw: nothing had seeded numpy by then), with the fix to seed before drawing. The data of
every epoch and the weights after training diverge as a consequence; initial weights do not.
Exit 1.
"""

import argparse

import keras
import numpy as np

from _toyproblem import make_data, make_model

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=123)
args = parser.parse_args()

x, y = make_data()
order = np.random.permutation(len(x))
train, holdout = order[:512], order[512:]

keras.utils.set_random_seed(args.seed)
model = make_model()
model.fit(x[train], y[train], batch_size=32, epochs=2, shuffle=False, verbose=0)
print("holdout accuracy", model.evaluate(x[holdout], y[holdout], verbose=0)[1])
