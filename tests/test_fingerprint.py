"""Array fingerprints: the same values give the same fingerprint whatever the byte order, memory
layout or code path, and the values themselves do not change between seedcheck versions (a
committed baseline holds them). Fast: numpy only."""

from __future__ import annotations

import numpy as np
import pytest

from seedcheck.fingerprint import SQUARES_CHUNK, array_fingerprint, summarize

# Pinned: what seedcheck 0.1.0 wrote. A change here breaks every saved baseline.
PINNED = {
    "float32 2x3": (np.arange(6, dtype="<f4").reshape(2, 3), "506947ca9bec1dd7ae62454a0ed377f1"),
    "0-d float64": (np.array(3.5), "d60191073b63e3b605f5f39a15dcb780"),
    "object bytes": (np.array([b"ab", b"c"], dtype=object), "c32684327db17129edc8509c2135d530"),
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_fingerprints_do_not_change_between_versions(name):
    array, expected = PINNED[name]
    assert array_fingerprint(array) == expected


@pytest.mark.parametrize("dtype", ["f2", "f4", "f8", "i2", "i4", "i8", "u4", "c8", "c16"])
def test_big_endian_values_fingerprint_as_little_endian_ones(dtype):
    values = np.arange(24).reshape(2, 3, 4)
    little, big = values.astype("<" + dtype), values.astype(">" + dtype)
    assert little.tobytes() != big.tobytes()
    assert array_fingerprint(big) == array_fingerprint(little)


def test_layout_and_python_types_do_not_matter_only_values_dtype_and_shape():
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    transposed_copy = np.ascontiguousarray(values.T)
    assert array_fingerprint(values.T) == array_fingerprint(transposed_copy)  # a strided view: the slow path
    assert array_fingerprint(values[:, ::2]) == array_fingerprint(np.ascontiguousarray(values[:, ::2]))
    assert array_fingerprint([[1.5, 2.5]]) == array_fingerprint(np.array([[1.5, 2.5]]))
    assert array_fingerprint(np.float64(2.5)) == array_fingerprint(np.array(2.5))
    assert array_fingerprint(values) != array_fingerprint(values.reshape(4, 3))  # same bytes, other shape
    assert array_fingerprint(values) != array_fingerprint(values.view(np.int32))  # same bytes, other dtype
    assert array_fingerprint(np.zeros((0, 3))) != array_fingerprint(np.zeros((3, 0)))


@pytest.mark.parametrize("dtype", ["f2", "f4", "f8", "i4", "u1", "?"])
def test_norms_are_summed_in_float64_chunk_by_chunk(dtype):
    """Up to a chunk, the norm is what one float64 pass gives, to the last bit (so the small models
    of earlier traces keep their norms); past it, chunked sums agree with it to float64 precision."""
    rng = np.random.default_rng(7)
    for size in (1, 1000, SQUARES_CHUNK, SQUARES_CHUNK + 1, 3 * SQUARES_CHUNK + 17):
        values = (rng.standard_normal(size) * 40).astype(dtype)
        one_pass = float(np.sqrt(np.sum(np.square(values, dtype=np.float64))))
        norm = summarize("w", values.reshape(-1, 1))["norm"]
        if size <= SQUARES_CHUNK:
            assert norm == one_pass
        else:
            assert norm == pytest.approx(one_pass, rel=1e-13, abs=0)
