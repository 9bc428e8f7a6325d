"""Fine-tuning from weights saved earlier, seeded with tf.random.set_seed only (so under Keras 3
every layer's fresh initial values differ from run to run).

--load file: the weights are saved once by a "pretraining" model and loaded into the model
trained here (`load_weights` over its fresh values); --load none: the fresh values are trained.
seedcheck is expected to call `file` reproducible (its init rows differ but no later weight
carries them) and `none` not reproducible, at init.
"""

import argparse
import os

import keras
import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--load", choices=["file", "none"], default="file")
args = parser.parse_args()
tf.random.set_seed(7)


def build() -> keras.Model:
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="features"),
                             keras.layers.Dense(2, name="head")], name="classifier")


path = os.path.join(os.environ.get("SEEDCHECK_RUN_DIR", "."), "pretrained.weights.h5")
if args.load == "file":
    pretrained = build()  # stands for a pretraining run: its weights come from a fixed generator
    rng = np.random.default_rng(0)
    pretrained.set_weights([rng.normal(size=w.shape).astype("float32") for w in pretrained.get_weights()])
    pretrained.save_weights(path)
model = build()
if args.load == "file":
    model.load_weights(path)
model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
data = np.random.default_rng(1)
x, y = data.normal(size=(64, 8)).astype("float32"), data.integers(0, 2, 64)
model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
