"""`fit` under a MirroredStrategy over two logical CPUs, seeded, from a seeded shuffle: the hook's
data chain runs inside the replicated step. Expected reproducible, with the script's fit working
as it does without seedcheck (an earlier chain's scatter_nd_update raised NotImplementedError there).
"""

import keras
import numpy as np
import tensorflow as tf

cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
keras.utils.set_random_seed(1)
x = np.random.default_rng(3).normal(size=(100, 4)).astype("float32")
y = (x[:, 0] > 0).astype("float32")[:, None]
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(100, seed=4).batch(16)
    model.fit(data, epochs=2, verbose=0)
