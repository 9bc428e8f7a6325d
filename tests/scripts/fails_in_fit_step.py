"""A training step that fails inside `fit`: `--when trace` gives labels of the wrong width (Keras's
loss raises while the step is traced), `--when run` token ids past the embedding's table (the
graph's gather fails while it runs, and TensorFlow quotes the stack that made the op). Either way
the error passes through seedcheck's wrappers of `fit` and of the step, which a plain run has not."""
import argparse

import keras
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--when", choices=["trace", "run"], required=True)
when = parser.parse_args().when

keras.utils.set_random_seed(1)
if when == "trace":
    inputs, x, y = keras.Input((8,)), np.ones((64, 8), "float32"), np.ones((64, 3), "float32")
    layers = [keras.layers.Dense(4)]
else:
    inputs, x, y = keras.Input((4,), dtype="int32"), np.full((64, 4), 12, "int32"), np.ones((64, 1), "float32")
    layers = [keras.layers.Embedding(10, 2), keras.layers.Flatten(), keras.layers.Dense(1)]
model = keras.Sequential([inputs, *layers])
model.compile("adam", "mse")
model.fit(x, y, epochs=1, verbose=0)
