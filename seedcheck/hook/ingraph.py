"""Fingerprints computed inside TensorFlow's graph, so a training step pays no Python per batch.

A `tf.py_function` in a step costs 0.1–0.25 ms of Python and GIL hand-off on every step (measured
here); the ops below cost microseconds and run in the step's own executor:

- `DataChain`: the order of an epoch's batches as one running FarmHash64 chain (`tf.fingerprint`)
  held in three TF variables, updated by the step and read at the epoch's end.
- `WeightLayout`: per variable, the fingerprint, L2 norm and fixed sample of `summarize`, computed
  in-graph on the steps where weights are due, handed to Python as three small tensors.

None of these ops draws a random number, so they leave the op seeds TF derives for the step's own
random ops unchanged. `tf.fingerprint` hashes a tensor's raw buffer: on a big-endian machine the
bytes are put in little-endian order first, so the same values give the same fingerprint anywhere.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import xxhash

from seedcheck.fingerprint import combine, sample_indices

FIRST_BATCHES = 8  # batch fingerprints kept to say which batch differs first


def _tf() -> Any:
    return sys.modules["tensorflow"]


def _little_endian(tensor: Any) -> Any:
    tf = _tf()
    if sys.byteorder == "big" and tensor.dtype != tf.string and tensor.dtype.size > 1:
        return tf.reverse(tf.bitcast(tensor, tf.uint8), axis=[-1])
    return tensor


class DataChain:
    """One epoch's batch order, chained in-graph: state = fp(state ‖ fp(batch)), a batch count,
    and the first few batch fingerprints. Few ops: each is built twice while fit traces its step
    (~0.5 ms an op here) and run on every step, so reads are `value()` (no Identity), and the count
    has shape [1] to be the scatter's index as it is (no Reshape): 14 kernels a step for (x, y)."""

    def __init__(self) -> None:
        import numpy as np

        tf = _tf()
        # Initial values from numpy: `tf.zeros` ran an eager op per dtype first (~7 ms of fit's first
        # block here, of ~15 ms for the three variables).
        with tf.init_scope():  # created outside any step's graph, and never a model's weight
            self.state = tf.Variable(np.zeros([1, 8], np.uint8), trainable=False, name="seedcheck_data_state")
            self.count = tf.Variable(np.zeros([1], np.int64), trainable=False, name="seedcheck_data_count")
            # Row FIRST_BATCHES collects every later batch (an index past it would be an error).
            self.first = tf.Variable(np.zeros([FIRST_BATCHES + 1, 8], np.uint8), trainable=False,
                                     name="seedcheck_data_first")

    def update(self, element: Any) -> None:
        """Graph ops, added after the real step: fold this batch into the chain."""
        tf = _tf()
        parts = [t for t in tf.nest.flatten(element, expand_composites=True) if t is not None]
        batch = tf.fingerprint(tf.concat([_row_fingerprint(t) for t in parts], 1))  # [1, 8]
        self.state.assign(tf.fingerprint(tf.concat([self.state.value(), batch], 1)))
        self.first.scatter_update(tf.IndexedSlices(batch, tf.minimum(self.count.value(), FIRST_BATCHES)))
        # Counted only once the batch is there: when fit reads a dataset of unknown length to its
        # end, its last call fails in get_next, and an increment with no input would still run.
        with tf.control_dependencies([batch]):
            self.count.assign_add([1])

    def reset(self) -> None:
        import numpy as np

        self.state.assign(np.zeros([1, 8], np.uint8))
        self.count.assign(np.zeros([1], np.int64))

    def read(self) -> tuple[str, int, list[str]]:
        """(fingerprint of the order, number of batches, the first batches' fingerprints)."""
        count = int(self.count.numpy()[0])
        state = self.state.numpy().tobytes().hex()
        first = [row.tobytes().hex() for row in self.first.numpy()[:min(count, FIRST_BATCHES)]]
        return combine([state, str(count)]), count, first


def _row_fingerprint(tensor: Any) -> Any:
    """uint8[1, 8]: FarmHash64 of the whole tensor's contents (not its dtype or shape)."""
    tf = _tf()
    return tf.fingerprint(tf.reshape(_little_endian(tensor), [1, -1]))


class WeightLayout:
    """What Python knows of a list of variables when the step is traced (names, shapes, dtypes,
    sample positions), so that the graph computes only what changes and decoding is cheap."""

    def __init__(self, variables: list[Any]) -> None:
        import numpy as np

        self.entries: list[tuple[str, list[int], Any, int]] = []  # name, shape, dtype, samples kept
        for variable in variables:
            shape = [int(d) for d in variable.shape]
            dtype = np.dtype(_numpy_dtype(variable))
            size = math.prod(shape)
            samples = len(sample_indices(size)) if dtype.kind in "fiub" and size else 0
            name = getattr(variable, "path", None) or variable.name
            self.entries.append((name, shape, dtype, samples))
        self.params = sum(math.prod(shape) for _, shape, _, _ in self.entries)
        # What `decode` repeats for every snapshot, prepared once: with `--every 1` it runs per step.
        self._prefixes = [xxhash.xxh3_128(f"{dtype.str}|{tuple(shape)}|tf.fingerprint|".encode())
                          for _, shape, dtype, _ in self.entries]
        self._dtype_names = [dtype.name for _, _, dtype, _ in self.entries]

    def summarize(self, tensors: list[Any]) -> list[Any]:
        """Graph ops on the variables' values: [fingerprints uint8[n, 8], sums of squares / 2
        float64[k], samples float64[m]] for the n variables, k of them numeric.

        Norms are summed in the variable's own float32/float64 (Eigen's reduction, ~1e-7 relative
        here): casting every weight to float64 first cost twice the whole summary (148 against
        67 µs for a 57k-parameter CNN, measured here). Samples are gathered, then widened."""
        tf = _tf()
        fingerprints, squares, samples = [], [], []
        for tensor, (_, _, dtype, kept) in zip(tensors, self.entries):
            row = tf.reshape(tensor, [1, -1])
            fingerprints.append(tf.fingerprint(_little_endian(row)))
            if kept:
                numeric = row if dtype.kind == "f" and dtype.itemsize >= 4 else tf.cast(row, tf.float64)
                squares.append(tf.nn.l2_loss(numeric))  # sum(x²) / 2
                samples.append(tf.gather(row, sample_indices(row.shape.num_elements()).tolist(), axis=1))
        return [tf.concat(fingerprints, 0) if fingerprints else tf.zeros([0, 8], tf.uint8),
                _as_float64(tf.stack, squares) if squares else tf.zeros([0], tf.float64),
                tf.reshape(_as_float64(lambda parts: tf.concat(parts, 1), samples), [-1]) if samples
                else tf.zeros([0], tf.float64)]

    def decode(self, fingerprints: Any, half_squares: Any, samples: Any) -> tuple[str, dict[str, Any]]:
        """`summarize`'s tensors as `fingerprint.snapshot` presents weights: one fingerprint over
        the ordered variables, and a summary of each (dtype and shape folded into its fingerprint)."""
        import numpy as np

        raw = np.ascontiguousarray(fingerprints, dtype=np.uint8).tobytes()  # 8 bytes per variable
        norms = np.sqrt(2 * np.asarray(half_squares, dtype=np.float64)).tolist()
        values = np.asarray(samples, dtype=np.float64).tolist()
        summaries: list[dict[str, Any]] = []
        numeric = position = 0
        for index, (name, shape, _, kept) in enumerate(self.entries):
            digest = self._prefixes[index].copy()
            digest.update(raw[8 * index:8 * index + 8])
            summary: dict[str, Any] = {"name": name, "shape": list(shape), "dtype": self._dtype_names[index],
                                       "fp": digest.hexdigest()}
            if kept:
                summary["norm"] = norms[numeric]
                summary["sample"] = values[position:position + kept]
                numeric, position = numeric + 1, position + kept
            summaries.append(summary)
        return combine(s["fp"] for s in summaries), {"variables": summaries, "params": self.params}


def _as_float64(join: Any, parts: list[Any]) -> Any:
    """`join(parts)` as float64: one cast after joining when the parts share a dtype."""
    tf = _tf()
    if len({part.dtype for part in parts}) == 1:
        joined = join(parts)
        return joined if joined.dtype == tf.float64 else tf.cast(joined, tf.float64)
    return join([tf.cast(part, tf.float64) for part in parts])


def _numpy_dtype(variable: Any) -> Any:
    dtype = variable.dtype
    as_numpy = getattr(dtype, "as_numpy_dtype", None)  # tf.DType
    return as_numpy if as_numpy is not None else dtype  # Keras variables give a string
