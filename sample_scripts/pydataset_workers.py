"""Noise augmentation in a keras.utils.PyDataset, loaded by worker threads.

A common pattern: a PyDataset whose __getitem__ reads its examples and adds np.random noise to
each, with workers=2 to keep the accelerator fed. Everything is seeded with keras.utils.set_random_seed, and Keras hands
the batches to fit in order; but two threads draw from numpy's one global RNG at once, so which
batch gets which noise depends on how the threads are scheduled.

seedcheck is expected to find, with --workers 2 (the default): initial weights reproducible, the
first divergence at the data order of epoch 1, with the parallel-loader hint (draws from a shared
RNG in several threads) and the fix to derive each batch's noise from its index. Exit 1.
With --workers 1, or --noise per-index (the fix), everything is reproducible. Exit 0.
"""

import argparse
import time

import keras
import numpy as np

from _toyproblem import make_data, make_model

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=123)
parser.add_argument("--workers", type=int, default=2)
parser.add_argument("--noise", choices=["global", "per-index"], default="global")
args = parser.parse_args()


class NoisyBatches(keras.utils.PyDataset):
    """Batches of (x + noise, y). `global` draws the noise from numpy's global RNG; `per-index`
    from a generator seeded by (seed, epoch, batch index), whichever thread builds the batch."""

    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.epoch = x, y, batch_size, 0

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, index):
        batch = slice(index * self.batch_size, (index + 1) * self.batch_size)
        features = self.x[batch]
        rng = np.random.default_rng([args.seed, self.epoch, index]) if args.noise == "per-index" else np.random
        for _ in range(8):  # a few augmentation steps, each a draw
            time.sleep(0.0002)  # stands for reading or decoding an image: the thread lets go of the GIL
            features = features + rng.normal(0.0, 0.05, features.shape).astype("float32")
        return features, self.y[batch]

    def on_epoch_end(self):
        self.epoch += 1


keras.utils.set_random_seed(args.seed)
x, y = make_data()
model = make_model()
history = model.fit(NoisyBatches(x, y, 32, workers=args.workers), epochs=2, verbose=0)
print(f"final loss {history.history['loss'][-1]:.6f}")
