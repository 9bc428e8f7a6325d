"""K-fold training that keeps every fold's model, each named "net": fully seeded, so reproducible.
The final weights of models alike in size and name must be recorded in the same order each run."""
import keras
import numpy as np

keras.utils.set_random_seed(0)
x = np.random.rand(80, 4).astype("float32")
y = np.random.rand(80, 1).astype("float32")
models = []
for fold in range(4):
    held_out = slice(fold * 20, fold * 20 + 20)
    train = np.ones(80, bool)
    train[held_out] = False
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)], name="net")
    model.compile("sgd", "mse")
    model.fit(x[train], y[train], epochs=1, batch_size=20, verbose=0)
    models.append(model)
print([float(m.evaluate(x, y, verbose=0)) for m in models])
