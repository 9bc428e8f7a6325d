"""Many ways to call fit: positional callbacks, a CallbackList, tf.data with sample weights, a
recompiled model, dict inputs, a subclassed model with its own train_step. seedcheck must
instrument each without changing it."""
import keras, numpy as np, tensorflow as tf
keras.utils.set_random_seed(0)
x = np.random.rand(64, 4).astype("float32"); y = np.random.rand(64, 1).astype("float32")
m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)]); m.compile("adam", "mse")
cb = keras.callbacks.History()
m.fit(x, y, 16, 1, 0, [cb], validation_data=(x, y))             # positional callbacks
m.fit(x, y, epochs=1, verbose=0, callbacks=keras.callbacks.CallbackList([keras.callbacks.History()], model=m))
ds = tf.data.Dataset.from_tensor_slices((x, y, np.ones(64, "float32"))).batch(16)
m.fit(ds, epochs=1, verbose=0)                                     # tf.data with sample weights
m.compile("sgd", "mse"); m.fit(x, y, epochs=1, verbose=0)          # recompiled
inp = {"a": keras.Input((2,), name="a"), "b": keras.Input((2,), name="b")}
out = keras.layers.Dense(1)(keras.layers.Concatenate()([inp["a"], inp["b"]]))
f = keras.Model(inp, out); f.compile("adam", "mse")
f.fit({"a": x[:, :2], "b": x[:, 2:]}, y, epochs=1, verbose=0)      # dict inputs
class Custom(keras.Model):
    def __init__(self):
        super().__init__(); self.d = keras.layers.Dense(1)
    def call(self, x): return self.d(x)
    def train_step(self, data):
        xb, yb = data
        with tf.GradientTape() as t:
            loss = tf.reduce_mean((self(xb, training=True) - yb) ** 2)
        g = t.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(g, self.trainable_variables))
        return {"loss": loss}
c = Custom(); c.compile("adam"); c.fit(x, y, epochs=2, verbose=0)   # custom train_step
print("history", len(cb.history["loss"]), sorted(cb.history))
