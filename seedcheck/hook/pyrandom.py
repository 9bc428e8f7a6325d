"""Draws from numpy's legacy global RNG and Python's `random`, and unseeded RNG objects.

Each draw is recorded by the state of the RNG it drew from, fingerprinted just before the call,
with the size of what it drew from: the same state and size give the same permutation, whatever
the items are. That keeps the record cheap and content-free, and points at the RNG: a draw that
differs between runs drew from an RNG that was not seeded (or seeded differently) by then.

Shuffles, permutations and choices are recorded wherever they are called from (a library
shuffling a PyDataset for the user). Value draws (`np.random.normal`, `random.random`, …) are
recorded when the user's code calls them itself: libraries draw values for their own ends
(tempfile's names, Keras's default seeds). They are often made once per example, so past the first
few at a site only their number is kept. `np.random.RandomState()` and `random.Random()` made
without a seed start from OS entropy, like `np.random.default_rng()`: recorded where they are made.
"""

from __future__ import annotations

import array
import ctypes
import functools
import sys
from typing import Any, Callable

import xxhash

from seedcheck.hook.patches import replace_everywhere
from seedcheck.hook.recorder import Recorder

PYTHON_DRAWS = ("shuffle", "sample", "choice", "choices")
NUMPY_DRAWS = ("shuffle", "permutation", "choice")
NOT_DRAWS = ("seed", "getstate", "setstate", "get_state", "set_state")
MT19937_STATE_BYTES = 624 * 4 + 4  # numpy's mt19937_state: uint32 key[624]; int pos


def value_draws(module: Any, instance: Any, shuffles: tuple[str, ...]) -> list[str]:
    """The module's functions that draw from its global RNG `instance` (bound methods of it), less
    the shuffles and the state functions: found, not listed, so a new one is not missed."""
    return sorted(name for name in dir(module) if not name.startswith("_") and name not in shuffles
                  and name not in NOT_DRAWS and getattr(getattr(module, name), "__self__", None) is instance)


class RandomCapture:
    def __init__(self, recorder: Recorder, is_seeded: Callable[[str], bool]) -> None:
        self._recorder = recorder
        self._is_seeded = is_seeded  # "python" / "numpy" -> has a seeding call reached that RNG yet

    def install_python(self, random: Any) -> None:
        state = functools.partial(_python_state, random._inst)
        for name in PYTHON_DRAWS:
            original = getattr(random, name)
            setattr(random, name, self._wrap(f"random.{name}", "python", original, state))
        for name in value_draws(random, getattr(random, "_inst", None), PYTHON_DRAWS):
            original = getattr(random, name)
            setattr(random, name, self._wrap_value(f"random.{name}", "python", original, state))
        self._install_unseeded_random(random)

    def install_numpy(self, np_random: Any) -> None:
        state = _numpy_state(np_random)
        for name in NUMPY_DRAWS:
            original = getattr(np_random, name)
            replace_everywhere(("numpy.random",), name, original,
                               self._wrap(f"numpy.random.{name}", "numpy", original, state))
        for name in value_draws(np_random, getattr(np_random.mtrand, "_rand", None), NUMPY_DRAWS):
            original = getattr(np_random, name)
            replace_everywhere(("numpy.random",), name, original,
                               self._wrap_value(f"numpy.random.{name}", "numpy", original, state))
        self._install_unseeded_random_state(np_random)

    def install_numpy_generators(self, np_random: Any) -> None:
        """`np.random.default_rng()` with no seed starts from OS entropy: recorded (its initial
        state) where it is created. A seeded one is a pure function of its seed: no record needed."""
        original = np_random.default_rng

        @functools.wraps(original)
        def default_rng(*args: Any, **kwargs: Any) -> Any:
            generator = original(*args, **kwargs)
            if (args[0] if args else kwargs.get("seed")) is None:
                self._recorder.guarded("numpy.random.default_rng", lambda: self._recorder.record_draw(
                    "rng", "numpy.random.default_rng",
                    xxhash.xxh3_128(repr(generator.bit_generator.state).encode()).hexdigest(),
                    {"api": "numpy.random.default_rng", "unseeded": True}))
            return generator

        replace_everywhere(("numpy.random",), "default_rng", original, default_rng)

    def _install_unseeded_random(self, random: Any) -> None:
        """`random.Random()` with no seed (SystemRandom, which has no state, aside)."""
        original_init = random.Random.__init__
        capture = self

        @functools.wraps(original_init)
        def __init__(generator: Any, x: Any = None) -> None:
            original_init(generator, x)
            if x is None and not isinstance(generator, random.SystemRandom):
                site = capture._recorder.caller_site()
                if site is not None:
                    capture._record_unseeded("random.Random", site, lambda: _python_state(generator))

        random.Random.__init__ = __init__

    def _install_unseeded_random_state(self, np_random: Any) -> None:
        """`np.random.RandomState()` with no seed. numpy's class cannot be patched in place: a
        subclass takes its name in `numpy.random`, and still answers isinstance for every
        RandomState (numpy's global one included), so code that checks for one sees no change."""
        original = np_random.RandomState
        capture = self

        class _InstanceOfOriginal(type(original)):  # type: ignore[misc]
            def __instancecheck__(cls, instance: Any) -> bool:
                return isinstance(instance, original)

            def __subclasscheck__(cls, subclass: type) -> bool:
                return issubclass(subclass, original)

        class RandomState(original, metaclass=_InstanceOfOriginal):  # type: ignore[misc, valid-type]
            __doc__ = original.__doc__

            def __init__(self, seed: Any = None) -> None:
                super().__init__(seed)
                if seed is None:
                    site = capture._recorder.caller_site()
                    if site is not None:
                        capture._record_unseeded("numpy.random.RandomState", site, lambda: xxhash.xxh3_128(
                            repr(self.get_state(legacy=False)).encode()).hexdigest())

        RandomState.__module__, RandomState.__qualname__ = original.__module__, original.__qualname__
        np_random.RandomState = RandomState

    def _record_unseeded(self, api: str, site: str, state: Callable[[], str]) -> None:
        self._recorder.guarded(api, lambda: self._recorder.record_draw(
            "rng", api, state(), {"api": api, "unseeded": True}, site=site))

    def _wrap_value(self, api: str, rng: str, original: Callable[..., Any],
                    state: Callable[[], str]) -> Callable[..., Any]:
        recorder, is_seeded = self._recorder, self._is_seeded

        @functools.wraps(original)
        def draw(*args: Any, **kwargs: Any) -> Any:
            site = recorder.caller_site()
            if site is not None:
                size = kwargs.get("size", args if api in ("numpy.random.rand", "numpy.random.randn") else None)
                recorder.guarded(api, lambda: recorder.record_draw(
                    "rng", api, lambda: xxhash.xxh3_128(f"{state()}|{size}".encode()).hexdigest(),
                    {"api": api, "rng": rng, "size": _jsonable_size(size), "seeded": is_seeded(rng)},
                    site=site, counted_when_folded=True))
            return original(*args, **kwargs)

        return draw

    def _wrap(self, api: str, rng: str, original: Callable[..., Any], state: Callable[[], str]) -> Callable[..., Any]:
        kind = "shuffle" if api.endswith(("shuffle", "permutation")) else "rng"

        @functools.wraps(original)
        def draw(*args: Any, **kwargs: Any) -> Any:
            self._recorder.guarded(api, lambda: self._record(kind, api, rng, state(), args))
            return original(*args, **kwargs)

        return draw

    def _record(self, kind: str, api: str, rng: str, state_fp: str, args: tuple) -> None:
        size = _size(args[0]) if args else None
        value = xxhash.xxh3_128(f"{state_fp}|{size}".encode()).hexdigest()
        detail = {"api": api, "rng": rng, "size": size, "seeded": self._is_seeded(rng)}
        self._recorder.record_draw(kind, api, value, detail)


def _python_state(generator: Any) -> str:
    version, words, gauss = generator.getstate()
    digest = xxhash.xxh3_128(array.array("Q", words).tobytes())
    digest.update(repr((version, gauss)).encode())
    return digest.hexdigest()


def _numpy_state(np_random: Any) -> Callable[[], str]:
    """A fingerprint of the legacy global RNG's state. `get_state()` takes ~33 µs (numpy builds
    the state as Python objects); the MT19937 state read in place takes ~0.6 µs, which a draw in a
    per-example loop can afford. Its key and position fix every later draw; the cached second
    normal of the legacy Gaussian is left out. Another bit generator (np.random.set_bit_generator)
    is read through `.state`."""
    rand = np_random.mtrand._rand
    cached: list[Any] = [None, 0]  # the bit generator, the address of its state

    def state() -> str:
        generator = rand._bit_generator
        if generator is not cached[0]:
            cached[:] = [generator, generator.ctypes.state_address if type(generator).__name__ == "MT19937" else 0]
        if not cached[1]:
            return xxhash.xxh3_128(repr(generator.state).encode()).hexdigest()
        raw = ctypes.string_at(cached[1], MT19937_STATE_BYTES)
        if sys.byteorder == "big":  # the same state gives the same fingerprint on any machine
            words = array.array("I", raw)
            words.byteswap()
            raw = words.tobytes()
        return xxhash.xxh3_128(raw).hexdigest()

    return state


def _jsonable_size(size: Any) -> Any:
    if isinstance(size, (tuple, list)):
        return [_jsonable_size(s) for s in size]
    return size if size is None or isinstance(size, (int, float, str)) else repr(size)


def _size(population: Any) -> int | None:
    if isinstance(population, int):  # numpy permutation(n) / choice(n)
        return population
    try:
        return len(population)
    except TypeError:
        return None
