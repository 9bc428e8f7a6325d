"""A linear model of the script's own tf.Variables, trained by a Keras optimizer in a tf.function
for 40 steps (fewer than a custom loop's snapshot interval) on numpy slices, with input noise from
tf.random.uniform given no seed=.

--seeding numpy: only numpy is seeded, not TensorFlow, so the noise, and the trained variables,
differ from run to run; --seeding tf: tf.random.set_seed makes them repeat. seedcheck is expected to record the
variables at the end (no Keras model holds them) and to say so. --by-hand: no optimizer, the step
updates the variables itself (assign_sub); they are recorded all the same. --lazy: the step makes
the variables on its first call (AutoGraph's rewrite of the script's line makes them).
--keras-variables: keras.Variable instead of tf.Variable (Keras's code makes the tf.Variable inside).
--every-kind: the three kinds side by side (tf.Variables made before the step, made on its first
call, and keras.Variables), each pair named after its kind (`eager_weight`, `lazy_bias`, ...).
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
parser.add_argument("--every-kind", action="store_true")
args = parser.parse_args()
if args.seeding == "tf":
    tf.random.set_seed(5)
else:
    np.random.seed(5)
data = np.random.default_rng(0)
x = data.normal(size=(320, 4)).astype("float32")
y = x.sum(axis=1, keepdims=True)
if args.every_kind:
    kinds = ["eager", "lazy", "keras"]
else:
    kinds = ["keras" if args.keras_variables else "lazy" if args.lazy else "eager"]
names = {kind: (f"{kind}_weight", f"{kind}_bias") if args.every_kind else ("weight", "bias") for kind in kinds}
made = {kind: [] for kind in kinds}  # the kind's weight and bias
if "keras" in kinds:
    made["keras"] = [keras.Variable(np.zeros([4, 1], "float32"), name=names["keras"][0]),
                     keras.Variable(np.zeros([1], "float32"), name=names["keras"][1])]
if "eager" in kinds:
    made["eager"] = [tf.Variable(tf.zeros([4, 1]), name=names["eager"][0]),
                     tf.Variable(tf.zeros([1]), name=names["eager"][1])]
optimizer = keras.optimizers.SGD(0.05)


@tf.function
def step(features, labels):
    if "lazy" in kinds and not made["lazy"]:
        made["lazy"].extend([tf.Variable(tf.zeros([4, 1]), name=names["lazy"][0]),
                             tf.Variable(tf.zeros([1]), name=names["lazy"][1])])
    features = features + tf.random.uniform(tf.shape(features), -0.1, 0.1)
    variables = [variable for pair in made.values() for variable in pair]
    with tf.GradientTape() as tape:
        loss = tf.add_n([tf.reduce_mean((features @ weight + bias - labels) ** 2) for weight, bias in made.values()])
    gradients = tape.gradient(loss, variables)
    if args.by_hand:
        for variable, gradient in zip(variables, gradients):
            variable.assign_sub(0.05 * gradient)
    else:
        optimizer.apply_gradients(zip(gradients, variables))


for epoch in range(4):
    for start in range(0, 320, 32):
        step(x[start:start + 32], y[start:start + 32])
