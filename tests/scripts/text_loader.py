"""A Keras directory loader called without seed=: it draws the shuffle's seed from numpy's global
RNG, which nothing here seeds (only Python's random and TensorFlow are). Reads the data once."""
import os
import random
import tempfile

import keras
import tensorflow as tf

random.seed(1)
tf.random.set_seed(1)
root = tempfile.mkdtemp()
for label in ("neg", "pos"):
    os.makedirs(os.path.join(root, label))
    for i in range(12):
        with open(os.path.join(root, label, f"{i}.txt"), "w") as handle:
            handle.write(f"{label} example {i}")
texts = keras.utils.text_dataset_from_directory(root, batch_size=4, shuffle=True)
for batch, labels in texts:
    pass
