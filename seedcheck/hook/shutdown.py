"""The end of a run's process: spare Python's shutdown its garbage collections over TensorFlow.

Python's shutdown collects garbage while it tears the modules down; once TensorFlow and Keras are
imported (~400 000 objects) those passes take 0.6-1.0 s of CPU here, a fifth of a short run's
time, on every run of a check. The handler below runs after every atexit handler of the script and
its libraries (it is registered before the script starts, and atexit runs handlers last in, first
out). It does what shutdown would do to the script's own objects, earlier: clears `__main__`'s
names as module teardown clears them and collects once, so what the script left in reference
cycles is finalized as in a plain run (its files flushed, its `__del__` run, a summary writer
flushed). Then it freezes what remains: libraries' objects, which shutdown still frees by reference
counting but no longer traverses. Measured here: 0.2 s instead of 0.6-1.0 s.

Only when no other Python thread still runs: a daemon thread could read a cleared name before the
interpreter stops it, where a plain run's shutdown stops it first.
"""

from __future__ import annotations

import atexit
import gc
import sys


def register() -> None:
    """Call before the script starts, so that the handler runs after all of the script's."""
    atexit.register(_collect_once_then_freeze)


def _collect_once_then_freeze() -> None:
    if "tensorflow" not in sys.modules or _other_threads_alive():
        return  # without TensorFlow shutdown is quick; with threads, leave it as python does it
    gc.collect()  # what is garbage already, finalized while every module is whole, as shutdown does first
    main = sys.modules.get("__main__")
    if main is not None:
        _clear_like_module_teardown(vars(main))
        gc.collect()  # what only the script's names kept: shutdown collects it once they are cleared
    gc.freeze()


def _other_threads_alive() -> bool:
    threading = sys.modules.get("threading")
    if threading is None:
        return False
    main = threading.main_thread()
    # A thread started outside Python (TensorFlow's, having run a py_function) is a _DummyThread:
    # listed for ever, and stopped by the interpreter like a daemon thread.
    return any(thread is not main and not isinstance(thread, threading._DummyThread)  # noqa: SLF001
               for thread in threading.enumerate())


def _clear_like_module_teardown(names: dict[str, object]) -> None:
    """Set the names to None, those starting with one underscore first, `__builtins__` kept: the
    order CPython's module teardown uses, so a `__del__` sees what it would see there."""
    for first in (True, False):
        for name in list(names):
            single = name.startswith("_") and not name.startswith("__")
            if single == first and name != "__builtins__":
                names[name] = None
