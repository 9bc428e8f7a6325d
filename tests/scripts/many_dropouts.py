"""Ten Dropout layers made on one line, before keras.utils.set_random_seed: the first eight with
seed= of their own, the last two with none, so those two draw their seeds from Python's `random`
before anything seeds it. seedcheck records each layer's SeedGenerator as a row of its own at the
line that made it: the first divergence is the ninth, seeded too late.
"""

import keras
import numpy as np

dropouts = [keras.layers.Dropout(0.1, seed=n if n < 8 else None) for n in range(10)]
keras.utils.set_random_seed(1)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), *dropouts, keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
x = np.linspace(0.0, 1.0, 64 * 4, dtype="float32").reshape(64, 4)
model.fit(x, x.sum(axis=1, keepdims=True), batch_size=16, epochs=1, shuffle=False, verbose=0)
