"""Saves its model twice, through Model.save and keras.saving.save_model, then loads it: its own
file, as it left it, whichever API wrote it last. The file is in a directory of this run's own
outside $SEEDCHECK_RUN_DIR, which seedcheck does not check at all: there, only the wrapped saving
APIs tell the run's own write from another run's."""
import os
import shutil
import tempfile

import keras
import numpy as np

keras.utils.set_random_seed(0)
path = os.path.join(tempfile.mkdtemp(prefix="saves_twice-"), "model.keras")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
model.compile("sgd", "mse")
model.save(path)
model.fit(np.ones((8, 4)), np.ones((8, 2)), verbose=0)
keras.saving.save_model(model, path)
print(keras.models.load_model(path).get_weights()[0].sum())
shutil.rmtree(os.path.dirname(path))
