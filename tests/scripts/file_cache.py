"""An unseeded augmentation kept in a file: the first run writes it, later runs read it back, so
they agree though each would augment differently. The path is the first argument; the second says
how it is kept: `cache` (Dataset.cache, the default), `snapshot` (Dataset.snapshot) or `save`
(preprocess once: Dataset.save if the directory is missing, then Dataset.load). Several of them,
comma-separated, are as many pipelines, each read in a loop of its own and kept at `<path>-<how>`."""
import os
import sys

import numpy as np
import tensorflow as tf

path, hows = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "cache").split(",")
x = np.arange(32, dtype=np.float32)


def augmented():
    return tf.data.Dataset.from_tensor_slices(x).map(lambda v: v + tf.random.uniform([]))


def kept_at(how):
    return path if len(hows) == 1 else f"{path}-{how}"


if "cache" in hows:
    for batch in augmented().cache(kept_at("cache")).batch(8):
        pass
if "snapshot" in hows:
    for batch in augmented().snapshot(kept_at("snapshot")).batch(8):
        pass
if "save" in hows:
    if not os.path.exists(kept_at("save")):
        augmented().save(kept_at("save"))
    for batch in tf.data.Dataset.load(kept_at("save")).batch(8):
        pass
