"""A callback that fails during fit, while handling another error: the traceback runs through
seedcheck's wrapper of Model.fit, which a plain run does not have."""
import keras
import numpy as np


class Fails(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        try:
            {}["log_dir"]
        except KeyError:
            raise RuntimeError("cannot write the epoch log")


model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
model.compile("sgd", "mse")
model.fit(np.zeros((8, 2)), np.zeros(8), epochs=1, verbose=0, callbacks=[Fails()])
