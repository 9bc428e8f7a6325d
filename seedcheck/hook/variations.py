"""Environment variations applied inside a run, for `seedcheck vary` (the runner varies what the
environment can: thread counts, PYTHONHASHSEED, oneDNN, the working directory).

Each is a setting in the run's hook settings (`variation`), applied before the script starts
(Python-level ones) or once TensorFlow is imported (TF ones). The control runs get the same
treatment with the neutral value, so that the only difference between a control run and a varied
run is the one aspect varied:
- `clock_start`: the wall clock read as if the run started at that instant (every control run at
  the same one; the `time` variation at another), then advancing normally: `time.time()`,
  `time.time_ns()`, what reads the current time when given none (`time.localtime()`, `gmtime()`,
  `ctime()`, `asctime()`, `strftime(format)`), and `datetime.datetime.now()`, `utcnow()`,
  `today()`, `datetime.date.today()`, through time-machine. numpy's and TensorFlow's clocks are
  their own.
- `reverse_listdir`: `os.listdir` and `os.scandir` (so `glob`, `os.walk` and `pathlib`) list in
  reverse of the file system's order, as reprotest's fileordering does with disorderfs; so do
  TensorFlow's `tf.io.gfile.listdir` and `tf.io.gfile.glob`, which list through TF's own file
  systems (`Dataset.list_files` sorts, or shuffles, what it lists: it is left alone).
- `op_determinism`: `tf.config.experimental.enable_op_determinism()` when TensorFlow is imported.
- `tfdata_nondeterministic`: the script's parallel `Dataset.map`/`interleave` calls that do not
  pass `deterministic=` run with `deterministic=False` (elements may come out of order). A serial
  call stays serial: no setting makes it parallel, and its order cannot change.
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any, Callable

from seedcheck.hook import clock


def apply_python(variation: dict[str, Any]) -> None:
    if variation.get("clock_start") is not None:
        shift_clock(float(variation["clock_start"]))
        clock.stop_checking()  # every control run's clock reads alike: the `time` variation shows a clock seed
    if variation.get("reverse_listdir"):
        reverse_listings()


def apply_tensorflow(variation: dict[str, Any], tf: Any) -> None:
    if variation.get("op_determinism"):
        tf.config.experimental.enable_op_determinism()
    if variation.get("tfdata_nondeterministic"):
        nondeterministic_tfdata(tf)
    if variation.get("reverse_listdir"):
        reverse_tf_listings(tf)


def shift_clock(start: float) -> None:
    """Every reader of the wall clock reads as if the run started at `start`, then advances in
    step with the real clock: time-machine patches the C functions themselves (`time.time`,
    `time_ns`, `localtime`, `gmtime`, `strftime`, `datetime.now`, `utcnow`, `today`,
    `date.today`), so the script keeps the very types and functions it would have: pickling, sqlite3
    adapters and `type(x) is date` work as without seedcheck (replacing `datetime`'s types with
    subclasses, as before, broke all three), and a reference taken early is shifted too."""
    import uuid

    time_machine = _import_without_pytest("time_machine")
    made_by_os = uuid._generate_time_safe  # type: ignore[attr-defined]
    time_machine.travel(start, tick=True).start()
    # time-machine sends uuid1() to its Python fallback, which draws from the script's `random` and
    # runs `ip link`: a seeded script's draws would differ from a plain run's. uuid1 keeps the OS's.
    uuid._generate_time_safe = made_by_os  # type: ignore[attr-defined]
    _shift_current_time_formatters()


def _import_without_pytest(name: str) -> Any:
    """time-machine imports pytest when it is installed, for its fixture: a script's process should
    not find a pytest it never imported (libraries take `"pytest" in sys.modules` for a test run)."""
    import importlib
    import sys

    blocked = "pytest" not in sys.modules
    if blocked:
        sys.modules["pytest"] = None  # type: ignore[assignment]  # `import pytest` raises ImportError
    try:
        return importlib.import_module(name)
    finally:
        if blocked:
            del sys.modules["pytest"]


class _ReadsCurrentTime:
    """`time.ctime()` and `time.asctime()`, which time-machine leaves to the C clock, given no time:
    read it through the shifted `time.time()`/`localtime()`. An instance, not a function, so that
    it does not bind as a method where a class keeps it (as a builtin does not: logging's
    `Formatter.converter = time.localtime` is the known case)."""

    def __init__(self, original: Callable[..., str], current: Callable[[], Any], none_is_now: bool) -> None:
        functools.update_wrapper(self, original)
        self._original, self._current, self._none_is_now = original, current, none_is_now

    def __call__(self, *when: Any) -> str:
        if not when or (self._none_is_now and when[0] is None):  # ctime(None) is now; asctime(None) an error
            when = (self._current(),)
        return self._original(*when)

    def __repr__(self) -> str:
        return repr(self._original)

    def __reduce__(self) -> str:  # pickled by name, as the builtin is (a process pool's map of it)
        return self.__name__


def _shift_current_time_formatters() -> None:
    time.ctime = _ReadsCurrentTime(time.ctime, time.time, none_is_now=True)  # type: ignore[assignment]
    time.asctime = _ReadsCurrentTime(time.asctime, time.localtime, none_is_now=False)  # type: ignore[assignment]


class _ReversedScandir:
    """What `os.scandir` returns (an iterator and a context manager), in reverse order."""

    def __init__(self, entries: list[os.DirEntry[Any]]) -> None:
        self._entries = iter(entries)

    def __iter__(self) -> "_ReversedScandir":
        return self

    def __next__(self) -> os.DirEntry[Any]:
        return next(self._entries)

    def __enter__(self) -> "_ReversedScandir":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._entries = iter(())


def reverse_listings() -> None:
    listdir, scandir = os.listdir, os.scandir

    def reversed_listdir(path: Any = ".") -> list[Any]:
        return listdir(path)[::-1]

    def reversed_scandir(path: Any = ".") -> _ReversedScandir:
        with scandir(path) as entries:
            return _ReversedScandir(list(entries)[::-1])

    os.listdir, os.scandir = reversed_listdir, reversed_scandir  # type: ignore[assignment]


def reverse_tf_listings(tf: Any) -> None:
    from seedcheck.hook.patches import replace_everywhere

    for name in ("listdir", "glob"):
        original = getattr(tf.io.gfile, name)

        def reversed_listing(*args: Any, __original: Any = original, **kwargs: Any) -> list[Any]:
            return list(__original(*args, **kwargs))[::-1]

        replace_everywhere(("tensorflow",), name, original, reversed_listing)


def nondeterministic_tfdata(tf: Any) -> None:
    """The script's own `map`/`interleave` calls only: pipelines Keras builds inside `fit` keep their
    settings (no machine would change those; a script's pipeline is what a user tunes)."""
    import sys

    from tensorflow.python.data.ops import dataset_ops

    dataset = dataset_ops.DatasetV2
    roots: list[str] = []

    def framework_roots() -> tuple[str, ...]:
        """Each framework's own directory (Keras may live apart from TensorFlow), as imported now."""
        found = tuple(os.path.dirname(os.path.abspath(module.__file__)) + os.sep
                      for name in ("tensorflow", "keras", "tf_keras", "seedcheck")
                      if (module := sys.modules.get(name)) is not None and getattr(module, "__file__", None))
        if len(found) > len(roots):
            roots[:] = found
        return tuple(roots)

    for method, parallel_position in (("map", 1), ("interleave", 3)):
        original = getattr(dataset, method)

        def varied(self: Any, *args: Any, __original: Any = original, __position: int = parallel_position,
                   **kwargs: Any) -> Any:
            if sys._getframe(1).f_code.co_filename.startswith(framework_roots()):
                return __original(self, *args, **kwargs)
            parallel = args[__position] if len(args) > __position else kwargs.get("num_parallel_calls")
            if parallel is None:
                return __original(self, *args, **kwargs)  # serial: its order cannot change
            if len(args) <= __position + 1 and kwargs.get("deterministic") is None:
                kwargs["deterministic"] = False
            return __original(self, *args, **kwargs)

        setattr(dataset, method, varied)
