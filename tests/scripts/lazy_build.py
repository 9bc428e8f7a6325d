"""A Sequential with no Input: Keras builds it inside fit's first step, so its variables are made
while the step is traced and get their values just before its first call. --seeding tf seeds
TensorFlow only (Keras 3 initializers then differ per process); --seeding late seeds everything
after the layers are made (their initializers drew their seeds already); --build builds it first."""
import argparse

import keras
import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--seeding", choices=["tf", "keras", "late"], default="keras")
parser.add_argument("--build", action="store_true")
args = parser.parse_args()
if args.seeding == "tf":
    tf.random.set_seed(1)
elif args.seeding == "keras":
    keras.utils.set_random_seed(1)
x = np.random.default_rng(0).normal(size=(64, 16)).astype("float32")
y = (x[:, 0] > 0).astype("int32")
model = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
if args.seeding == "late":
    keras.utils.set_random_seed(1)
if args.build:
    model.build((None, 16))
model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(x, y, epochs=1, batch_size=32, verbose=0)
