"""The benchmark's workload: a small CNN on synthetic 28x28 images, trained with `fit` or with a
GradientTape loop in a tf.function, fully seeded.

Prints its own training time (the part seedcheck's per-step and per-epoch work can slow down) as
`train_seconds=<s>`, the CPU time all its threads spent in it as `train_cpu_seconds=<s>`, and the
time of each block of `--block` optimizer steps as `block_seconds=<s>,<s>,…`.

Lockstep: when `$SEEDCHECK_BENCH_TURNS` holds two file descriptors (`<go>,<done>`), the workload
trains only in its turn: it says it is ready, then before each block of steps waits for a byte on
<go> and after it writes one on <done>. `benchmarks/overhead.py` hands turns round a plain and the
hooked runs, so the slow stretches of a shared machine fall on all of them alike; only time spent
in a turn is counted.
"""

import argparse
import os
import time

import keras
import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--mode", choices=["fit", "loop"], default="fit")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--examples", type=int, default=2048)
parser.add_argument("--block", type=int, default=16, help="optimizer steps per timed block (a turn)")
args = parser.parse_args()


class Turns:
    """Times blocks of steps; in lockstep, runs each block only in its turn."""

    def __init__(self) -> None:
        fds = os.environ.get("SEEDCHECK_BENCH_TURNS")
        self.go, self.done = (int(fd) for fd in fds.split(",")) if fds else (None, None)
        self.blocks: list[float] = []
        self.cpu = 0.0
        if self.done is not None:
            os.write(self.done, b"r")  # ready: imports and model building are over

    def begin(self) -> None:
        if self.go is not None:
            os.read(self.go, 1)
        self._started, self._started_cpu = time.perf_counter(), time.process_time()

    def end(self) -> None:
        self.blocks.append(time.perf_counter() - self._started)
        self.cpu += time.process_time() - self._started_cpu
        if self.done is not None:
            os.write(self.done, b"b")

    def next_block(self) -> None:
        self.end()
        self.begin()


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
# tf.data's default graph rewrites run again for every epoch's iterator (Keras's too); on this VM
# that took 1 ms or 1.2 s at random (measured), noise that has nothing to do with seedcheck.
quiet = tf.data.Options()
quiet.experimental_optimization.apply_default_optimizations = False
quiet.autotune.enabled = False
dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(args.examples, seed=2).batch(64).with_options(quiet)
turns = Turns()
steps = 0

turns.begin()
if args.mode == "fit":
    class BlockClock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            global steps
            steps += 1
            if steps % args.block == 0:
                turns.next_block()

    model.compile(optimizer=optimizer, loss=loss_fn, metrics=["accuracy"])
    model.fit(dataset, epochs=args.epochs, verbose=0, callbacks=[BlockClock()])
else:
    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    for _ in range(args.epochs):
        for images, labels in dataset:
            train_step(images, labels)
            steps += 1
            if steps % args.block == 0:
                turns.next_block()
turns.end()
print(f"train_seconds={sum(turns.blocks):.4f}")
print(f"train_cpu_seconds={turns.cpu:.4f}")
print("block_seconds=" + ",".join(f"{block:.5f}" for block in turns.blocks))
