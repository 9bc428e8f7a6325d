"""Keras utilities called without seed=. The directory loader draws its shuffle's seed from
numpy's global RNG, which nothing here seeds (only Python's random and TensorFlow are); with
--split, split_dataset draws a seed from Python's random, not seeded in that mode, and seeds
Python's random with it. Reads the data once."""
import os
import random
import sys
import tempfile

import keras
import numpy as np
import tensorflow as tf

tf.random.set_seed(1)
if "--split" in sys.argv:
    rows = np.arange(40, dtype="float32").reshape(20, 2)
    left, right = keras.utils.split_dataset(rows, left_size=0.8, shuffle=True)
    sys.exit(0)
random.seed(1)
root = tempfile.mkdtemp(dir=os.environ.get("SEEDCHECK_RUN_DIR"))  # the run's own directory: removed with it
for label in ("neg", "pos"):
    os.makedirs(os.path.join(root, label))
    for i in range(12):
        with open(os.path.join(root, label, f"{i}.txt"), "w") as handle:
            handle.write(f"{label} example {i}")
texts = keras.utils.text_dataset_from_directory(root, batch_size=4, shuffle=True)
for batch, labels in texts:
    pass
