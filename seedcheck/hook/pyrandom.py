"""numpy (legacy global RNG) and Python `random` shuffles, permutations and choices.

Each draw is recorded by the state of the RNG it drew from, fingerprinted just before the call,
with the size of what it drew from: the same state and size give the same permutation, whatever
the items are. That keeps the record cheap and content-free, and points at the RNG: a draw that
differs between runs drew from an RNG that was not seeded (or seeded differently) by then.
"""

from __future__ import annotations

import array
import functools
from typing import Any, Callable

import xxhash

from seedcheck.hook.patches import replace_everywhere
from seedcheck.hook.recorder import Recorder

PYTHON_DRAWS = ("shuffle", "sample", "choice", "choices")
NUMPY_DRAWS = ("shuffle", "permutation", "choice")


class RandomCapture:
    def __init__(self, recorder: Recorder, is_seeded: Callable[[str], bool]) -> None:
        self._recorder = recorder
        self._is_seeded = is_seeded  # "python" / "numpy" -> has a seeding call reached that RNG yet

    def install_python(self, random: Any) -> None:
        def state() -> str:
            version, words, gauss = random.getstate()
            digest = xxhash.xxh3_128(array.array("Q", words).tobytes())
            digest.update(repr((version, gauss)).encode())
            return digest.hexdigest()

        for name in PYTHON_DRAWS:
            original = getattr(random, name)
            setattr(random, name, self._wrap(f"random.{name}", "python", original, state))

    def install_numpy(self, np_random: Any) -> None:
        from seedcheck.fingerprint import array_fingerprint

        get_state = np_random.get_state

        def state() -> str:
            _, keys, position, has_gauss, gauss = get_state(legacy=True)
            return array_fingerprint(keys) + f":{position}:{has_gauss}:{gauss!r}"

        for name in NUMPY_DRAWS:
            original = getattr(np_random, name)
            replace_everywhere(("numpy.random",), name, original,
                               self._wrap(f"numpy.random.{name}", "numpy", original, state))

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


def _size(population: Any) -> int | None:
    if isinstance(population, int):  # numpy permutation(n) / choice(n)
        return population
    try:
        return len(population)
    except TypeError:
        return None
