"""An unseeded augmentation kept in a file: the first run writes it, later runs read it back, so
they agree though each would augment differently. The path is the first argument; the second says
how it is kept: `cache` (Dataset.cache, the default), `snapshot` (Dataset.snapshot) or `save`
(preprocess once: Dataset.save if the directory is missing, then Dataset.load)."""
import os
import sys

import numpy as np
import tensorflow as tf

path, how = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "cache")
x = np.arange(32, dtype=np.float32)
augmented = tf.data.Dataset.from_tensor_slices(x).map(lambda v: v + tf.random.uniform([]))
if how == "cache":
    kept = augmented.cache(path)
elif how == "snapshot":
    kept = augmented.snapshot(path)
else:
    if not os.path.exists(path):
        augmented.save(path)
    kept = tf.data.Dataset.load(path)
for batch in kept.batch(8):
    pass
