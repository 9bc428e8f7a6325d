"""An unseeded augmentation cached to a file: the first run writes the cache, later runs read it
back, so they agree though each would augment differently. The file is the first argument."""
import sys

import numpy as np
import tensorflow as tf

x = np.arange(32, dtype=np.float32)
augmented = tf.data.Dataset.from_tensor_slices(x).map(lambda v: v + tf.random.uniform([]))
for batch in augmented.cache(sys.argv[1]).batch(8):
    pass
