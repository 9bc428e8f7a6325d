"""The data set and model the classifier samples share, so they differ only in how they seed.

The data set comes from its own fixed numpy Generator: it is identical in every run, so only the
randomness of training itself (initial weights, Dropout, batch order) is under test.
"""

import numpy as np
import keras

FEATURES, CLASSES, EXAMPLES = 20, 3, 640


def make_data():
    rng = np.random.default_rng(2024)
    x = rng.normal(size=(EXAMPLES, FEATURES)).astype("float32")
    mixing = rng.normal(size=(FEATURES, CLASSES))
    y = np.argmax(x @ mixing + 0.5 * rng.normal(size=(EXAMPLES, CLASSES)), axis=1)
    return x, y


def make_model():
    model = keras.Sequential([
        keras.Input((FEATURES,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, epochs, save_weights=None):
    """Fit, print the final loss; with `save_weights`, also keep the final weights in an .npz file."""
    x, y = make_data()
    history = model.fit(x, y, batch_size=32, epochs=epochs, shuffle=True, verbose=0)
    print(f"final loss {history.history['loss'][-1]:.6f}, accuracy {history.history['accuracy'][-1]:.4f}")
    if save_weights:
        np.savez(save_weights, *model.get_weights())
    return history
