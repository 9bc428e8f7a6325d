"""A linear model of the script's own tf.Variables, trained by a Keras optimizer in a tf.function
for 40 steps (fewer than a custom loop's snapshot interval) on numpy slices, with input noise from
tf.random.uniform given no seed=.

--seeding numpy: only numpy is seeded, not TensorFlow, so the noise, and the trained variables,
differ from run to run; --seeding tf: tf.random.set_seed makes them repeat. seedcheck is expected to record the
variables at the end (no Keras model holds them) and to say so. --by-hand: no optimizer, the step
updates the variables itself (assign_sub); they are recorded all the same. --lazy: the step makes
the variables on its first call (AutoGraph's rewrite of the script's line makes them).
--keras-variables: keras.Variable instead of tf.Variable (Keras's code makes the tf.Variable inside).
"""

import argparse

import keras
import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--seeding", choices=["numpy", "tf"], default="numpy")
parser.add_argument("--by-hand", action="store_true")
parser.add_argument("--lazy", action="store_true")
parser.add_argument("--keras-variables", action="store_true")
args = parser.parse_args()
if args.seeding == "tf":
    tf.random.set_seed(5)
else:
    np.random.seed(5)
data = np.random.default_rng(0)
x = data.normal(size=(320, 4)).astype("float32")
y = x.sum(axis=1, keepdims=True)
if args.keras_variables:
    made = [keras.Variable(np.zeros([4, 1], "float32"), name="weight"), keras.Variable(np.zeros([1], "float32"), name="bias")]
else:
    made = [] if args.lazy else [tf.Variable(tf.zeros([4, 1]), name="weight"), tf.Variable(tf.zeros([1]), name="bias")]
optimizer = keras.optimizers.SGD(0.05)


@tf.function
def step(features, labels):
    if not made:
        made.extend([tf.Variable(tf.zeros([4, 1]), name="weight"), tf.Variable(tf.zeros([1]), name="bias")])
    weight, bias = made
    features = features + tf.random.uniform(tf.shape(features), -0.1, 0.1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((features @ weight + bias - labels) ** 2)
    gradients = tape.gradient(loss, [weight, bias])
    if args.by_hand:
        for variable, gradient in zip([weight, bias], gradients):
            variable.assign_sub(0.05 * gradient)
    else:
        optimizer.apply_gradients(zip(gradients, [weight, bias]))


for epoch in range(4):
    for start in range(0, 320, 32):
        step(x[start:start + 32], y[start:start + 32])
