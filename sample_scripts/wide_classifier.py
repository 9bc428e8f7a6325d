"""A fully seeded classifier on wide inputs (1024 features): its matrix products are big enough
that the kernel TensorFlow picks, and on some CPUs the way it splits them across threads, changes
the order of the floating-point additions, and with it the last bits of the weights.

Run by itself, seedcheck is expected to find every stage reproducible (exit 0): one machine, one
setting. The same seed with TensorFlow's oneDNN kernels off on one machine and on on another
(`TF_ENABLE_ONEDNN_OPTS=0` / `1`; measured here, where `TF_NUM_INTRAOP_THREADS=1` / `2` made no
difference) changes no initial weight and no batch, but the weights after the first epoch differ
in their last bits: `seedcheck compare` of the two saved runs reports them DIVERGED bitwise
(exit 1), `close` with `--rtol 1e-4` (exit 0), and lists the setting under the environment
differences.
"""

import argparse

import keras
import numpy as np

FEATURES, CLASSES, EXAMPLES = 1024, 4, 1024

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=7)
parser.add_argument("--epochs", type=int, default=2)
args = parser.parse_args()

keras.utils.set_random_seed(args.seed)

rng = np.random.default_rng(2024)  # the data never changes: only training is under test
x = rng.normal(size=(EXAMPLES, FEATURES)).astype("float32")
y = np.argmax(x @ rng.normal(size=(FEATURES, CLASSES)), axis=1)

model = keras.Sequential([
    keras.Input((FEATURES,)),
    keras.layers.Dense(512, activation="relu"),
    keras.layers.Dense(CLASSES, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, batch_size=256, epochs=args.epochs, shuffle=True, verbose=0)
print(f"final loss {history.history['loss'][-1]:.6f}")
