"""Seeds that are the current time.

A seed taken from the clock (`random.seed(int(time.time()))`, `time.time_ns()`, milliseconds kept
in numpy's range with `% 2**32`) differs from run to run, except between runs that start in the
same second, as parallel runs do: there the runs agree and the check would pass. So a seed is
compared with the clock when it is given, and one that reads as the current time is marked.

A literal seed cannot match by chance: whole epoch times are ten digits and more, and must lie
within `WINDOW_S` of now. The one reduced form checked, milliseconds modulo 2**32 (which wraps
every 49.7 days; numpy's seeds stop at 2**32), is checked for seeding calls only, within a minute
of now and above the small literals scripts use: any seed up to 2**32 has a chance of about 3 in
100,000 to fall there, small for the few seeding calls of a script, not for the many seeds Keras
hands its ops.
"""

from __future__ import annotations

import operator
import time
from typing import Any

WINDOW_S = 600  # a seed read from the clock at the start of a script and applied after a long load
REDUCED_WINDOW_S = 60
REDUCED_MIN = 2**24  # below this, a literal seed (42, 1234, 20240101) is never taken for a reduced clock
UNITS = (("s", 1), ("ms", 10**3), ("µs", 10**6), ("ns", 10**9))

_checking = True


def stop_checking() -> None:
    """`seedcheck vary` pins every control run's clock to one instant: a clock seed then repeats by
    design, and the `time` variation is what shows it."""
    global _checking
    _checking = False


def clock_unit(seed: Any, reduced: bool = False) -> str | None:
    """The unit ("s", "ms", "µs", "ns") in which `seed` is the current time (epoch time, or with
    `reduced` milliseconds modulo 2**32 too), or None."""
    if not _checking or isinstance(seed, bool):
        return None
    try:
        value = int(seed) if isinstance(seed, float) else operator.index(seed)
    except (TypeError, ValueError, OverflowError):
        return None
    if value <= 0:
        return None
    now_ns = time.time_ns()
    for unit, per_second in UNITS:
        if abs(value - now_ns * per_second // 10**9) <= WINDOW_S * per_second:
            return unit
    if reduced and value >= REDUCED_MIN:
        distance = (value - now_ns // 10**6) % 2**32
        if min(distance, 2**32 - distance) <= REDUCED_WINDOW_S * 10**3:
            return "ms"
    return None


def mark(detail: dict[str, Any], seed: Any, reduced: bool = False) -> None:
    """Add `clock: <unit>` to a recorded call's detail when its seed (or an element of a stateless
    op's seed pair) is the current time."""
    seeds = seed if isinstance(seed, (list, tuple)) else (seed,)
    unit = next((unit for unit in (clock_unit(one, reduced) for one in seeds) if unit is not None), None)
    if unit is not None:
        detail["clock"] = unit
