"""keras.utils.split_dataset(shuffle=True), then a model. The split seeds Python's `random` itself:
with no seed= it draws a seed (random.randint) and reseeds `random` with it, so an unseeded split
varies from run to run; with seed= it resets `random` for every model made after it, whatever seed
the script set first (Keras 3 initializers draw their seeds from `random`). Under seedcheck these
calls must be what they are without it: the library's, passed through.

--seed N: keras.utils.set_random_seed(N) first (none by default). --split-seed N: the split's seed=.
"""

import argparse

import keras
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=None)
parser.add_argument("--split-seed", type=int, default=None)
args = parser.parse_args()
if args.seed is not None:
    keras.utils.set_random_seed(args.seed)
x = np.linspace(0.0, 1.0, 64 * 4, dtype="float32").reshape(64, 4)
y = x.sum(axis=1, keepdims=True)
train, _ = keras.utils.split_dataset((x, y), left_size=0.75, shuffle=True, seed=args.split_seed)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(train.batch(16), epochs=1, verbose=0)
