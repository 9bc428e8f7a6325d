"""Eager tf.data loops over elements of many kinds, each pass's fingerprint also worked out here the
slow, general way (`.numpy()` copies, `array_fingerprint`, `combine`), printed as JSON for the test
to hold the hook's recorded data stages to; then the hook's variable reads against `.numpy()`."""

import json

import numpy as np
import tensorflow as tf

from seedcheck.fingerprint import array_fingerprint, combine
from seedcheck.hook.variables import read_named

n = 12
rng = np.random.default_rng(0)
numeric = tf.data.Dataset.from_tensor_slices((
    rng.random((n, 5, 3), dtype=np.float32), rng.integers(0, 9, n), rng.random(n) > 0.5,
    rng.integers(0, 255, (n, 2)).astype(np.uint8), rng.random(n).astype(np.float16),
    (rng.random(n) + 1j * rng.random(n)).astype(np.complex64), rng.integers(-5, 5, n).astype(np.int32),
))
datasets = {
    "numeric": numeric.batch(5),                               # last batch smaller: a second shape
    "scalars": numeric.map(lambda *t: (t[1], t[4])),           # unbatched: 0-d tensors
    "single": tf.data.Dataset.from_tensor_slices((np.arange(n, dtype=np.float64),)).batch(4),
    "strings": tf.data.Dataset.from_tensor_slices((np.array([b"a", b"bc"] * 6), np.arange(n))).batch(3),
    "bfloat16": tf.data.Dataset.from_tensor_slices((tf.cast(np.arange(n, dtype=np.float32), tf.bfloat16),)).batch(6),
    "dict": tf.data.Dataset.from_tensor_slices({"x": np.arange(n, dtype=np.float32), "y": np.arange(n)}).batch(6),
}


def general(element):
    return combine([array_fingerprint(t.numpy()) for t in tf.nest.flatten(element, expand_composites=True)])


expected = {}
for name, dataset in datasets.items():
    expected[name] = combine([general(element) for element in dataset])  # one pass per dataset, one call site

weights = [tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3)), tf.Variable(np.int64(7))]
import keras  # noqa: E402

weights.append(keras.Variable(np.ones((2, 2), np.float16)))
read = read_named(weights)
weights[0].assign_add(tf.ones((2, 3)))
reads = {
    "equal": all(np.array_equal(value, v.numpy() - (1 if i == 0 else 0)) and value.dtype == v.numpy().dtype
                 for i, ((_, value), v) in enumerate(zip(read, weights))),
    "read_only": not any(value.flags.writeable for _, value in read if value.ndim),
}
print(json.dumps({"expected": expected, "reads": reads}))
