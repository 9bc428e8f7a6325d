"""Seeding-call override and recording.

Every global seeding call the script makes is recorded (API, call site, value asked, value
applied). With override on, the run's seed is applied instead of the literal: `--seed` then works
on any script while keeping *which* seeding calls it makes, the thing under test. A call that
asks for no seed (`random.seed()`, meaning fresh entropy) is passed through: replacing it would
make an unseeded script look seeded. So is a call Keras makes inside one of its utilities, as a
side effect (recorded with `via`): `keras.utils.split_dataset` with no seed does
`random.seed(random.randint(...))`, and replacing that made an unseeded split look seeded; given
`seed=42` it resets `random` for the models made after it, whatever the run's seed, which the runs
must show. A helper whose job is seeding (`seed_everything(42)` from an installed package) seeds
for the script: overridden like the script's own calls, as are calls AutoGraph runs for it.

The override shifts every integer seed by one amount, the one that turns the script's first seed
into the run's seed: `np.random.seed(seed + epoch)` stays a different seed each epoch, as under
plain `python` (replacing every literal by the run's seed made each epoch repeat the first one's
order). Seeds are kept in numpy's range, 0 to 2**32 - 1. A script handed its seed through
`{seed}` gets no override at all (the runner turns it off), so it computes what it would without
seedcheck, even when its first seed is a fixed one for another RNG.
"""

from __future__ import annotations

import functools
import operator
import threading
from typing import Any, Callable

from seedcheck.hook import clock
from seedcheck.hook.recorder import Recorder

# The public names of the seeding APIs, as the report shows them.
PYTHON_SEED = "random.seed"
NUMPY_SEED = "numpy.random.seed"
TF_SEED = "tf.random.set_seed"
KERAS_SEED = "keras.utils.set_random_seed"
FORCE_SEED = "seedcheck --force-seed"
# Libraries whose own seeding calls reseed a global RNG as a side effect of a utility (Keras's
# split_dataset, its legacy image and sequence preprocessing): `via` starts with one of these.
RESEEDING_LIBRARIES = ("keras/", "tf_keras/")
SEED_RANGE = 2**32  # numpy's seeds: applied seeds stay valid for every seeding API
RNGS_SEEDED_BY = {PYTHON_SEED: ("python",), NUMPY_SEED: ("numpy",), TF_SEED: ("tf",),
                  KERAS_SEED: ("python", "numpy", "tf"), FORCE_SEED: ("python", "numpy", "tf")}


class SeedingOverride:
    def __init__(self, recorder: Recorder, run_seed: int | None, override: bool) -> None:
        self._recorder = recorder
        self._run_seed = run_seed
        self._override = override and run_seed is not None
        self._inside = threading.local()
        self._seeded: set[str] = set()  # RNG families a seeding call has reached: python, numpy, tf
        self._first_asked: int | None = None  # the script's first integer seed: the shift's origin

    def is_seeded(self, rng: str) -> bool:
        return rng in self._seeded

    def mark_seeded(self, api: str) -> None:
        self._seeded.update(RNGS_SEEDED_BY.get(api, ()))

    def unrecorded(self, call: Callable[[], Any]) -> Any:
        """Run `call` with the seeding calls it makes passed straight through: those a seeding API
        makes itself (keras.utils.set_random_seed seeds random, numpy and TF), and seedcheck's own
        (--force-seed), which its own event records and which is not the script's first seed."""
        outer = getattr(self._inside, "active", False)
        self._inside.active = True
        try:
            return call()
        finally:
            self._inside.active = outer

    def wrap(self, api: str, original: Callable[..., Any], keyword: str) -> Callable[..., Any]:
        """A stand-in for `original`, whose seed is its first positional argument or `keyword`."""

        @functools.wraps(original)
        def seeding_call(*args: Any, **kwargs: Any) -> Any:
            if getattr(self._inside, "active", False):
                # A call made by another seeding API (keras.utils.set_random_seed seeds random,
                # numpy and TF itself): that one was recorded and overridden already.
                return original(*args, **kwargs)
            asked = args[0] if args else kwargs.get(keyword)
            applied = asked
            # Keras reseeding inside a utility (split_dataset) is what the script does: passed
            # through, and never the shift's origin.
            via = self._recorder.calling_library()
            side_effect = via is not None and via.startswith(RESEEDING_LIBRARIES)
            overridden = self._override and asked is not None and not side_effect
            if overridden:
                applied = self._shifted(asked)
                if args:
                    args = (applied, *args[1:])
                else:
                    kwargs[keyword] = applied
            self._record(api, asked, applied, via, overridden)
            if applied is not None:
                self.mark_seeded(api)
            else:  # no seed: fresh entropy from here on, whatever seeded the RNG before
                self._seeded.difference_update(RNGS_SEEDED_BY.get(api, ()))
            return self.unrecorded(lambda: original(*args, **kwargs))

        seeding_call.__seedcheck_original__ = original  # type: ignore[attr-defined]
        return seeding_call

    def _shifted(self, asked: Any) -> int:
        """The seed applied in place of `asked`: shifted by the amount that makes the first seed the
        run's. A seed that is not an integer (a string for `random.seed`, an array for numpy's)
        has no distance to keep and gets the run's seed itself."""
        assert self._run_seed is not None
        try:
            value = operator.index(asked)  # ints and numpy integers; not floats, strings or arrays
        except TypeError:
            return self._run_seed
        if self._first_asked is None:
            self._first_asked = value
        return (self._run_seed + value - self._first_asked) % SEED_RANGE

    def _record(self, api: str, asked: Any, applied: Any, via: str | None, overridden: bool) -> None:
        site = self._recorder.user_site()
        detail = {"api": api, "asked": _jsonable(asked), "applied": _jsonable(applied), "overridden": overridden}
        if via is not None:  # a library seeding for the script (keras.utils.split_dataset)
            detail["via"] = via
        clock.mark(detail, asked)  # parallel runs started in the same second ask alike
        self._recorder.record("seed", self._recorder.next_key(f"seed/{api}"), _jsonable(applied), site=site,
                              detail=detail)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        return int(value)  # numpy integers, 0-d arrays
    except (TypeError, ValueError):
        return repr(value)[:80]
