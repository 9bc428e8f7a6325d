"""Reading TF/Keras variables as numpy from anywhere the hook runs: eager code, a callback, a
py_function during a step, or while a tf.function is being traced (lifted out by init_scope)."""

from __future__ import annotations

import itertools
import sys
from typing import Any, Iterable


def read_named(variables: Iterable[Any]) -> list[tuple[str, Any]]:
    tf = sys.modules["tensorflow"]
    try:  # internal modules: a TF without them reads every variable the general way
        from tensorflow.python.ops.gen_resource_variable_ops import read_variable_op
        from tensorflow.python.ops.resource_variable_ops import ResourceVariable
    except ImportError:
        read_variable_op, ResourceVariable = None, None

    import numpy as np

    with tf.init_scope():
        eager = tf.executing_eagerly()
        named = []
        for variable in variables:
            # A tf.Variable, or the one a Keras 3 variable holds: one ReadVariableOp, and a view of
            # its result rather than a copy (8 µs a variable against 35 µs for `.numpy()` here,
            # which goes through Keras's and tf.Variable's wrappers and copies). Anything else (a
            # distributed variable, graph mode) reads the general way. The stored value is read, in
            # its own dtype, even inside a mixed-precision autocast scope (where `.numpy()` casts).
            inner = variable if type(variable) is ResourceVariable else getattr(variable, "_value", None)
            if eager and ResourceVariable is not None and type(inner) is ResourceVariable:
                value = read_variable_op(inner.handle, inner.dtype)._numpy()
                if type(value) is np.ndarray:  # a 0-d read is a numpy scalar, immutable already
                    value.flags.writeable = False  # the read's own buffer: never to be written through
            else:
                value = variable.numpy()
            named.append((getattr(variable, "path", None) or variable.name, value))
        return named


_UID = "_seedcheck_uid"
_next_uid = itertools.count(1)


def uid_of(variable: Any) -> int | None:
    """A number for the variable, the same in its init event and every snapshot of it: the trace's
    way of telling one variable from another of the same name (a second model built alike)."""
    holder = getattr(variable, "__dict__", None)
    if holder is None:
        return None
    if _UID not in holder:
        holder[_UID] = next(_next_uid)
    return holder[_UID]


def snapshot_of(variables: list[Any]) -> tuple[str, dict[str, Any]]:
    """fingerprint.snapshot of the variables' values, each summary with the variable's uid where
    it has one (where its init was recorded)."""
    from seedcheck.fingerprint import snapshot

    value, detail = snapshot(read_named(variables))
    for entry, variable in zip(detail["variables"], variables):
        uid = getattr(variable, "__dict__", {}).get(_UID)
        if uid is not None:
            entry["uid"] = uid
    return value, detail
