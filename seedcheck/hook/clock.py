"""Seeds that are the current time.

A seed taken from the clock (`random.seed(int(time.time()))`, `time.time_ns()`,
`int(time.strftime("%Y%m%d%H%M%S"))`) differs from run to run, except between runs that start in
the same second, as parallel runs do: there the runs agree and the check would pass. So a seed is
compared with the clock when it is given, and one that reads as a time since this process started
is marked.

Since the process started, not near now: a seed the script reads from a file was taken from the
clock before the run (a config written a minute ago) and is the same in every run. So is one handed
in through its arguments or environment (`--seed $(date +%s)`, or seedcheck's own `{seed}` and
$SEEDCHECK_SEED), which may have been read within the second the run started: a seed found among
their numbers is never marked. Whole epoch times are ten digits and more and the date-and-time forms
fourteen or twelve, so a literal cannot fall there by chance; a seed hashed from a name (below
2**32) lands in the seconds window once in 4.3 billion per second the run has lasted.
"""

from __future__ import annotations

import functools
import operator
import os
import re
import sys
import time
from typing import Any

from seedcheck.hook.settings import ENV_VAR

UNITS = (("s", 1), ("ms", 10**3), ("µs", 10**6), ("ns", 10**9))
DATE_FORMS = (("YmdHMS", "%Y%m%d%H%M%S"), ("YmdHM", "%Y%m%d%H%M"))  # local time or UTC

_started_ns = time.time_ns()  # imported as the hook starts, before the script can read the clock
_checking = True


def stop_checking() -> None:
    """`seedcheck vary` pins every control run's clock to one instant: a clock seed then repeats by
    design, and the `time` variation is what shows it."""
    global _checking
    _checking = False


def clock_unit(seed: Any) -> str | None:
    """The unit ("s", "ms", "µs", "ns", or a date-and-time form of trace.CLOCK_UNITS) in which
    `seed` is a time between this process's start and now, or None."""
    value = _as_int(seed) if _checking else None
    if value is None or value <= 0:
        return None
    if value in _handed_in():
        return None
    now_ns = time.time_ns()
    for unit, per_second in UNITS:
        # int() of a time read since the start is the start's floor or more; round() may add one.
        if _started_ns * per_second // 10**9 <= value <= now_ns * per_second // 10**9 + 1:
            return unit
    if 10**11 <= value < 10**14:  # twelve to fourteen digits: the date-and-time forms
        for unit, form in DATE_FORMS:
            for convert in (time.localtime, time.gmtime):
                start, now = (int(time.strftime(form, convert(ns // 10**9 + shift)))
                              for ns, shift in ((_started_ns, 0), (now_ns, 1)))
                if start <= value <= now:
                    return unit
    return None


@functools.cache
def _handed_in() -> frozenset[int]:
    """The numbers of nine digits or more in the script's arguments and environment (read once, at
    the first seed checked: the hook has set `sys.argv` for the script by then)."""
    own = {ENV_VAR}  # the hook's settings: the check's start time is no seed the script was given
    text = "\0".join([*sys.argv, *(value for name, value in os.environ.items() if name not in own)])
    return frozenset(int(digits) for digits in re.findall(r"\d{9,20}", text))


def mark(detail: dict[str, Any], seed: Any) -> None:
    """Add `clock: <unit>` to a recorded call's detail when its seed (or an element of a seed pair
    or array) is the current time."""
    seeds = seed if isinstance(seed, (list, tuple)) else _elements(seed)
    unit = next((unit for unit in map(clock_unit, seeds) if unit is not None), None)
    if unit is not None:
        detail["clock"] = unit


def _elements(seed: Any) -> tuple[Any, ...]:
    """A numpy array's elements (`np.random.seed(np.array([t]))`), a few at most; else the seed."""
    if type(seed).__name__ == "ndarray" and 0 < getattr(seed, "size", 0) <= 8:
        return tuple(seed.ravel().tolist())
    return (seed,)


def _as_int(seed: Any) -> int | None:
    if isinstance(seed, bool):
        return None
    if isinstance(seed, str):  # random.seed(str(int(time.time())))
        return int(seed) if seed.isascii() and seed.isdigit() and len(seed) <= 20 else None
    try:
        return int(seed) if isinstance(seed, float) else operator.index(seed)
    except (TypeError, ValueError, OverflowError):
        return None
