"""Reading TF/Keras variables as numpy from anywhere the hook runs: eager code, a callback, a
py_function during a step, or while a tf.function is being traced (lifted out by init_scope)."""

from __future__ import annotations

import sys
from typing import Any, Iterable


def read_named(variables: Iterable[Any]) -> list[tuple[str, Any]]:
    tf = sys.modules["tensorflow"]
    with tf.init_scope():
        return [(getattr(v, "path", None) or v.name, v.numpy()) for v in variables]
