"""Two sources mixed by `tf.data.Dataset.sample_from_datasets`, which draws which source each
element comes from through `Dataset.random`.

--when before: the mix is built before `keras.utils.set_random_seed`, with no seed= of its own: its
  draws have neither an op seed nor a global seed, so each process mixes the sources differently.
--when after: built after the seeding call: the global seed fixes the mix.
"""

import argparse

import keras
import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--when", choices=["before", "after"], default="after")
args = parser.parse_args()

rows = np.random.default_rng(11)
x = rows.normal(size=(96, 4)).astype("float32")
y = (x[:, 0] > 0).astype("float32")[:, None]
sources = [tf.data.Dataset.from_tensor_slices((x[:48], y[:48])), tf.data.Dataset.from_tensor_slices((x[48:], y[48:]))]


def mixed() -> tf.data.Dataset:
    return tf.data.Dataset.sample_from_datasets(sources, weights=[0.5, 0.5]).batch(16)


if args.when == "before":
    data = mixed()
keras.utils.set_random_seed(1)
if args.when == "after":
    data = mixed()
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.SGD(0.05), loss=keras.losses.BinaryCrossentropy(from_logits=True))
model.fit(data, epochs=2, verbose=0)
