"""Saves its model in its own run directory twice, through Model.save and keras.saving.save_model,
then loads it: its own file, as it left it, whichever API wrote it last."""
import os

import keras
import numpy as np

keras.utils.set_random_seed(0)
path = os.path.join(os.environ["SEEDCHECK_RUN_DIR"], "model.keras")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
model.compile("sgd", "mse")
model.save(path)
model.fit(np.ones((8, 4)), np.ones((8, 2)), verbose=0)
keras.saving.save_model(model, path)
print(keras.models.load_model(path).get_weights()[0].sum())
