"""The benchmark's workload: a small CNN on synthetic 28x28 images, trained with `fit` or with a
GradientTape loop in a tf.function, fully seeded. Prints its own training time (the part seedcheck's
per-step and per-epoch work can slow down) as `train_seconds=<s>`, and the CPU time all its threads
spent in it as `train_cpu_seconds=<s>` (less disturbed than wall time by a shared machine's stalls)."""

import argparse
import time

import keras
import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--mode", choices=["fit", "loop"], default="fit")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--examples", type=int, default=2048)
args = parser.parse_args()

keras.utils.set_random_seed(1)
rng = np.random.default_rng(0)
x = rng.random((args.examples, 28, 28, 1), dtype=np.float32)
y = rng.integers(0, 10, size=args.examples)

model = keras.Sequential([
    keras.Input((28, 28, 1)),
    keras.layers.Conv2D(16, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Flatten(),
    keras.layers.Dropout(0.2),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(10),
])
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.Adam(1e-3)

started, started_cpu = time.perf_counter(), time.process_time()
if args.mode == "fit":
    model.compile(optimizer=optimizer, loss=loss_fn, metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=args.epochs, shuffle=True, verbose=0)
else:
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(args.examples, seed=2).batch(64)

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    for _ in range(args.epochs):
        for images, labels in dataset:
            train_step(images, labels)
print(f"train_seconds={time.perf_counter() - started:.4f}")
print(f"train_cpu_seconds={time.process_time() - started_cpu:.4f}")
