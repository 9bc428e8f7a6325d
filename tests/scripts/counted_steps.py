"""A tf.function step called from Python: seedcheck counts its steps in Python and adds no op to its
graph (the script prints the graph's op count, to compare with a plain run). Then the same step
called twice inside another tf.function: those steps are counted in-graph, after the first 60.
`--jit-compile`: the step is compiled by XLA, where nothing can be added to its graph at all."""
import sys

import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(2)
x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
optimizer = keras.optimizers.SGD(0.01)


@tf.function(jit_compile="--jit-compile" in sys.argv[1:])
def step(batch):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(batch)))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))


for _ in range(60):
    step(x)
print("ops in the step's graph:", len(step.get_concrete_function(x).graph.get_operations()))


@tf.function
def two_steps(batch):
    step(batch)
    step(batch)


for _ in range(20):
    two_steps(x)
print("done")
