"""Fetches weights once, as keras.utils.get_file downloads a pretrained file: written with a plain
copy (no saving API the hook wraps), then loaded. The path is the first argument."""
import os
import shutil
import sys

import keras

keras.utils.set_random_seed(1)
model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
target = sys.argv[1]
if not os.path.exists(target):
    fetched = os.path.join(os.environ.get("SEEDCHECK_RUN_DIR", "."), "fetched.weights.h5")
    model.save_weights(fetched)
    shutil.copy(fetched, target)
model.load_weights(target)
