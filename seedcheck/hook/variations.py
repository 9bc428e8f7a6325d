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
  `today()`, `datetime.date.today()`. numpy's and TensorFlow's clocks are their own.
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
    real_ns, monotonic_ns = time.time_ns, time.monotonic_ns
    origin = monotonic_ns()
    start_ns = int(start * 1e9)

    def time_ns() -> int:
        return start_ns + (monotonic_ns() - origin)

    def time_s() -> float:
        return time_ns() / 1e9

    time_s.__seedcheck_original__ = real_ns  # type: ignore[attr-defined]
    time.time, time.time_ns = time_s, time_ns  # type: ignore[assignment]
    _shift_current_time_readers(time_s)
    _shift_datetime(time_s)


def _shift_current_time_readers(time_s: Callable[[], float]) -> None:
    """`time`'s functions that read the C clock themselves when given no time."""
    for name in ("localtime", "gmtime", "ctime"):
        original = getattr(time, name)

        @functools.wraps(original)
        def reader(secs: float | None = None, __original: Any = original) -> Any:
            return __original(time_s() if secs is None else secs)

        setattr(time, name, reader)
    localtime, original_asctime, original_strftime = time.localtime, time.asctime, time.strftime

    @functools.wraps(original_asctime)
    def asctime(*when: Any) -> str:
        return original_asctime(*(when or (localtime(),)))

    @functools.wraps(original_strftime)
    def strftime(format: str, *when: Any) -> str:
        return original_strftime(format, *(when or (localtime(),)))

    time.asctime, time.strftime = asctime, strftime  # type: ignore[assignment]


def _shift_datetime(time_s: Callable[[], float]) -> None:
    """`datetime`'s types are compiled and read the clock in C: the module's `datetime` and `date`
    become subclasses whose `now()`, `utcnow()` and `today()` read the shifted time (instances of
    the originals answer `isinstance` and `issubclass` as before; a script's own subclass of them
    keeps its own checks). Only in `seedcheck vary`'s runs."""
    import datetime as module

    real_date, real_datetime = module.date, module.datetime

    class _SameChecks(type):
        def __instancecheck__(cls, instance: Any) -> bool:
            return isinstance(instance, cls.__bases__[0]) if cls in shifted else super().__instancecheck__(instance)

        def __subclasscheck__(cls, subclass: type) -> bool:
            return issubclass(subclass, cls.__bases__[0]) if cls in shifted else super().__subclasscheck__(subclass)

    class date(real_date, metaclass=_SameChecks):  # type: ignore[misc]
        __doc__ = real_date.__doc__

        @classmethod
        def today(cls) -> Any:
            return cls.fromtimestamp(time_s())

        def __repr__(self) -> str:  # C's repr names a subclass by its bare name
            return f"datetime.{real_date.__repr__(self)}" if type(self) in shifted else real_date.__repr__(self)

    class datetime(real_datetime, metaclass=_SameChecks):  # type: ignore[misc]
        __doc__ = real_datetime.__doc__

        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return cls.fromtimestamp(time_s(), tz)

        @classmethod
        def utcnow(cls) -> Any:
            return cls.fromtimestamp(time_s(), module.timezone.utc).replace(tzinfo=None)

        @classmethod
        def today(cls) -> Any:
            return cls.fromtimestamp(time_s())

        def __repr__(self) -> str:
            return f"datetime.{real_datetime.__repr__(self)}" if type(self) in shifted else real_datetime.__repr__(self)

    shifted = (date, datetime)
    for made, real in zip(shifted, (real_date, real_datetime)):
        made.__module__, made.__qualname__ = "datetime", real.__qualname__  # pickled by name, as the original
    module.date, module.datetime = date, datetime  # type: ignore[misc]


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
