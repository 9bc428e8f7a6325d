"""Fast, platform-stable fingerprints of arrays, and the small summaries that explain a difference.

A fingerprint covers dtype, shape and the bytes in little-endian C order, so the same values give
the same fingerprint on any machine and byte order. XXH3-128 hashes the buffer in place (no copy):
measured here at ~39 GB/s against 1.8 GB/s for sha256 (../shared/FACTS.md).
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any, Iterable

import xxhash

if TYPE_CHECKING:
    import numpy as np

# numpy is imported where arrays are handled, not here: the hook fingerprints Python-only draws
# too, and must not import numpy into a script that never does.

SAMPLE_SIZE = 32
# Squares are widened to float64 this many values at a time: one float64 copy of a whole 10M-
# parameter variable (80 MB) made the norm 17 ms of a 19 ms summary, chunks of 512 KB take 9 ms
# (measured here, benchmarks/fingerprints.py). Arrays up to this size sum exactly as in one piece.
SQUARES_CHUNK = 65536


def array_fingerprint(array: Any) -> str:
    import numpy as np

    a = array if type(array) is np.ndarray else np.asarray(array)
    prefix = in_place_prefix(a.dtype, a.shape) if a.flags.c_contiguous else None
    if prefix is not None:  # the common case: the buffer hashed as it is, no copy
        digest = prefix.copy()
        digest.update(a)
        return digest.hexdigest()
    a = _canonical(a)
    digest = xxhash.xxh3_128()
    digest.update(f"{a.dtype.str}|{a.shape}|".encode())
    if a.dtype.kind == "O":  # strings from tf.string tensors arrive as object arrays of bytes
        for item in a.reshape(-1):
            data = item if isinstance(item, bytes) else str(item).encode()
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    elif a.size:
        digest.update(a.reshape(-1).view(np.uint8).data)
    return digest.hexdigest()


def in_place_prefix(dtype: "np.dtype", shape: tuple[int, ...]) -> xxhash.xxh3_128 | None:
    """For a contiguous buffer of this dtype and shape whose bytes are its fingerprint's bytes
    (numeric, little-endian): the digest holding `dtype|shape|`, to be copied, then fed the buffer
    as it is. None when the values must be made canonical first."""
    if dtype.kind in "biufc" and dtype.str[0] != ">":
        # (1,) for a 0-d array: the shape np.ascontiguousarray gives it, so values stay as they were.
        return _prefix_digest(dtype.str, shape if shape else (1,))
    return None


@functools.lru_cache(maxsize=256)
def _prefix_digest(dtype: str, shape: tuple[int, ...]) -> xxhash.xxh3_128:
    """A digest holding `dtype|shape|`, to be copied (never updated itself)."""
    return xxhash.xxh3_128(f"{dtype}|{shape}|".encode())


def combine(fingerprints: Iterable[str]) -> str:
    """One fingerprint for an ordered sequence of fingerprints (a model's variables, an epoch's batches)."""
    digest = xxhash.xxh3_128()
    for fp in fingerprints:
        digest.update(fp.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def bytes_fingerprint(data: bytes | memoryview) -> str:
    return xxhash.xxh3_128(data).hexdigest()


def summarize(name: str, array: Any) -> dict[str, Any]:
    """What explains a difference without storing the tensor: fingerprint, L2 norm, a fixed sample."""
    import numpy as np

    a = np.asarray(array)
    summary: dict[str, Any] = {
        "name": name,
        "shape": list(a.shape),
        "dtype": a.dtype.name,
        "fp": array_fingerprint(a),
    }
    if a.dtype.kind in "fiub" and a.size:
        flat = a.reshape(-1)
        summary["norm"] = math.sqrt(sum_of_squares(flat))
        summary["sample"] = flat[sample_indices(flat.size)].astype(np.float64).tolist()
    return summary


def sum_of_squares(flat: "np.ndarray") -> float:
    """Σx² of a 1-d numeric array, accumulated in float64 without a float64 copy of the whole array:
    each chunk is squared into one reused buffer and summed (numpy's pairwise sum), the chunks'
    sums added in order, so the value depends only on the values and the chunk size."""
    import numpy as np

    buffer = np.empty(min(flat.size, SQUARES_CHUNK), np.float64)
    total = 0.0
    for start in range(0, flat.size, SQUARES_CHUNK):
        part = flat[start:start + SQUARES_CHUNK]
        squares = buffer[:part.size]
        np.square(part, out=squares, dtype=np.float64)
        total += float(squares.sum())
    return total


@functools.lru_cache(maxsize=512)
def sample_indices(size: int) -> "np.ndarray":
    """The same evenly strided positions for every array of a given size, so samples line up across
    runs. Cached (read-only): a model asks for the same few sizes at every snapshot."""
    import numpy as np

    indices = np.unique(np.linspace(0, size - 1, num=min(SAMPLE_SIZE, size)).round().astype(np.int64))
    indices.flags.writeable = False
    return indices


def _canonical(a: "np.ndarray") -> "np.ndarray":
    import numpy as np

    if a.dtype.str[0] == ">":  # big-endian, whether foreign here or native on a big-endian machine
        a = a.astype(a.dtype.newbyteorder("<"))
    return np.ascontiguousarray(a)


def snapshot(named_arrays: Iterable[tuple[str, Any]]) -> tuple[str, dict[str, Any]]:
    """A set of weights: one fingerprint over the ordered variables, and a summary of each."""
    variables = [summarize(name, array) for name, array in named_arrays]
    params = sum(math.prod(v["shape"]) for v in variables)
    return combine(v["fp"] for v in variables), {"variables": variables, "params": params}
