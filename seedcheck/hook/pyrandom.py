"""Draws from numpy's legacy global RNG and Python's `random`, and unseeded RNG objects.

Each draw is recorded by the state of the RNG it drew from, fingerprinted just before the call,
with the size of what it drew from: the same state and size give the same permutation, whatever
the items are. That keeps the record cheap and content-free, and points at the RNG: a draw that
differs between runs drew from an RNG that was not seeded (or seeded differently) by then.

Shuffles, permutations and choices are recorded wherever they are called from (a library
shuffling a PyDataset for the user). Value draws (`np.random.normal`, `random.random`, …) are
recorded when the user's code calls them itself: libraries draw values for their own ends
(tempfile's names, Keras's default seeds). They are often made once per example, so past the first
few at a site they are counted, and the state read at the 1st, 2nd, 4th, … and every 256th.

Every wrapper pickles as its original does (a script may hand one to a process pool): numpy's
and Python's module-level draws are bound methods of a hidden global RNG, which pickle copies.
"""

from __future__ import annotations

import array
import functools
import linecache
import operator
import re
import sys
import weakref
from typing import Any, Callable

import xxhash

from seedcheck.hook import clock
from seedcheck.hook.patches import replace_all_everywhere, replace_everywhere
from seedcheck.hook.recorder import _HOOK_PREFIX, Recorder

PYTHON_DRAWS = ("shuffle", "sample", "choice", "choices")
NUMPY_DRAWS = ("shuffle", "permutation", "choice")
NOT_DRAWS = ("seed", "getstate", "setstate", "get_state", "set_state")
# What reads an RNG object's whole state without drawing: copy.copy and copy.deepcopy (through
# __reduce_ex__, or a class's own __copy__ / __deepcopy__), pickle, __getstate__. An unseeded
# object watched for its first draw counts any of them as that draw: a copy drawn from in its place
# draws what the object would have (numpy's _bit_generator and get_state / getstate count too).
STATE_READS = ("__reduce_ex__", "__reduce__", "__getstate__", "__copy__", "__deepcopy__")
# numpy's classes that take a seed and, given none, draw one from the OS (a call of one on the line).
_BIT_GENERATOR_CALL = re.compile(r"\b(PCG64DXSM|PCG64|MT19937|Philox|SFC64|SeedSequence)\s*\(")
# In a watched object's own __dict__ until its first draw: called with the object, records it.
_WATCHED = "_seedcheck_unseeded"


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

    def install_numpy(self, np_random: Any) -> None:
        state = numpy_state(np_random)
        replacements = {}
        for name in NUMPY_DRAWS:
            original = getattr(np_random, name)
            replacements[name] = (original, self._wrap(f"numpy.random.{name}", "numpy", original, state))
        for name in value_draws(np_random, getattr(np_random.mtrand, "_rand", None), NUMPY_DRAWS):
            original = getattr(np_random, name)
            replacements[name] = (original, self._wrap_value(f"numpy.random.{name}", "numpy", original, state))
        replace_all_everywhere(("numpy.random",), replacements)

    def install_numpy_generators(self, np_random: Any) -> None:
        """`np.random.default_rng()` with no seed starts from OS entropy: recorded (its initial
        state) where the script's own line creates it. A seeded one is a pure function of its seed:
        no record needed. One a library makes for its own ends is not the script's: importing Keras
        with SciPy installed makes four (scipy.stats draws its docstrings' examples), which would
        otherwise be a first divergence at the script's `import keras` in every run."""
        original = np_random.default_rng
        recorder, note_clock_seed = self._recorder, self._note_clock_seed

        @functools.wraps(original)
        def default_rng(*args: Any, **kwargs: Any) -> Any:
            generator = original(*args, **kwargs)
            seed = args[0] if args else kwargs.get("seed")
            if seed is not None:
                recorder.guarded("numpy.random.default_rng", lambda: note_clock_seed("numpy.random.default_rng", seed))
            else:
                site = recorder.caller_site()
                if site is not None:
                    recorder.guarded("numpy.random.default_rng", lambda: recorder.record_draw(
                        "rng", "numpy.random.default_rng",
                        xxhash.xxh3_128(repr(generator.bit_generator.state).encode()).hexdigest(),
                        {"api": "numpy.random.default_rng", "unseeded": True}, site=site))
            return generator

        replace_everywhere(("numpy.random",), "default_rng", original,
                           _as_public(default_rng, "numpy.random.default_rng"))

    def install_numpy_entropy(self, np_random: Any) -> None:
        """A numpy bit generator or SeedSequence made without a seed (`np.random.Generator(
        np.random.PCG64())`, `np.random.SeedSequence()`) draws its seed from the OS, through the
        `randbits` numpy's compiled `bit_generator` module looks up at each call: recorded (the
        entropy) where a line of the script made it, named after the class on that line (after numpy's
        `bit_generator` module where the line names none, or two). The
        `default_rng()` and `RandomState()` wrappers above make theirs from seedcheck's frames: they
        record their own. numpy's global RNG, made at its import, is numpy's."""
        module = np_random.bit_generator
        original = module.randbits
        recorder = self._recorder

        def randbits(bits: int) -> int:
            entropy = original(bits)
            if not sys._getframe(1).f_code.co_filename.startswith(_HOOK_PREFIX):
                try:  # as `guarded` does, without a closure per call
                    self._note_entropy(entropy)
                except Exception as err:  # noqa: BLE001 - instrumentation must not break the script
                    recorder.hook_error("numpy.random", err)
            return entropy

        randbits.__seedcheck_original__ = original  # type: ignore[attr-defined]
        module.randbits = randbits

    def _note_entropy(self, entropy: int) -> None:
        recorder = self._recorder
        frame = recorder.caller_frame()
        if frame is None:
            return
        filename, line = frame.f_code.co_filename, frame.f_lineno
        named = set(_BIT_GENERATOR_CALL.findall(linecache.getline(filename, line)))
        api = f"numpy.random.{named.pop() if len(named) == 1 else 'bit_generator'}"  # the module, if unnamed
        recorder.record_draw("rng", api, xxhash.xxh3_128(repr(entropy).encode()).hexdigest(),
                             {"api": api, "unseeded": True}, site=recorder.site_of(filename, line))

    def install_python_objects(self, random: Any) -> None:
        """`random.Random()` with no seed: recorded at its first draw, with its state then, at the
        line that made it (where the seed goes), when a line of the script makes it. A seed or a
        state given before the first draw (`Random().seed(5)`, `setstate`) ends the watch."""
        random_class = random.Random
        original_init = random_class.__init__
        system_random, watch = random.SystemRandom, self._watch_unseeded
        draws = _draw_names(random_class, ("seed", "getstate", "setstate"))
        reads = ("getstate", *STATE_READS)

        @functools.wraps(original_init)
        def __init__(instance: Any, x: Any = None, *args: Any, **kwargs: Any) -> None:
            original_init(instance, x, *args, **kwargs)
            if isinstance(instance, system_random):
                return
            if x is None:
                watch(instance, "random.Random", _python_state, draws, reads, ("seed", "setstate"))
            else:
                self._recorder.guarded("random.Random", lambda: self._note_clock_seed("random.Random", x))

        random_class.__init__ = __init__

    def install_numpy_random_state(self, np_random: Any) -> None:
        """`np.random.RandomState()` with no seed, as `random.Random()` above. numpy's class is
        compiled and cannot be patched in place: `np.random.RandomState` becomes a subclass that
        makes the original class's instances (a seeded one is the original's own), and answers
        `isinstance` and `issubclass` as the original does, for the global RNG too (an ABCMeta, so
        that a script's class may also derive from an ABC)."""
        import abc
        import copy
        import copyreg

        original = np_random.RandomState
        watch, recorder, note_clock_seed = self._watch_unseeded, self._recorder, self._note_clock_seed
        api = "numpy.random.RandomState"
        draws = _draw_names(original, ("seed", "get_state", "set_state"))
        reads = ("get_state", *STATE_READS)
        bit_generator = original.__dict__["_bit_generator"]  # numpy's own methods reach it in C, not through this

        def state_of(instance: Any) -> str:
            return numpy_state(instance)()

        class _InstanceChecks(abc.ABCMeta):
            def __instancecheck__(cls, instance: Any) -> bool:
                return isinstance(instance, original) if cls is RandomState else super().__instancecheck__(instance)

            def __subclasscheck__(cls, subclass: type) -> bool:
                return issubclass(subclass, original) if cls is RandomState else super().__subclasscheck__(subclass)

        class RandomState(original, metaclass=_InstanceChecks):  # type: ignore[misc, valid-type]
            __doc__ = original.__doc__
            __slots__ = ()  # a script's subclass with __slots__ keeps them

            def __new__(cls, seed: Any = None, *args: Any, **kwargs: Any) -> Any:
                if cls is not RandomState:  # a script's own subclass
                    return super().__new__(cls, seed, *args, **kwargs)
                if seed is not None:
                    made = original(seed, *args, **kwargs)
                    recorder.guarded(api, lambda: note_clock_seed(api, seed))
                    return made
                return original.__new__(_Unseeded)  # __init__ below then seeds it from OS entropy

            def __init__(self, seed: Any = None, *args: Any, **kwargs: Any) -> None:
                super().__init__(seed, *args, **kwargs)
                if seed is not None:  # a script's own subclass, given a seed
                    recorder.guarded(api, lambda: note_clock_seed(api, seed))
                elif hasattr(self, "__dict__"):  # a subclass with __slots__ cannot be watched
                    watch(self, api, state_of, draws, reads, ("seed", "set_state"))

            @property
            def _bit_generator(self) -> Any:
                """The object's own bit generator, which a Generator (`np.random.Generator(rs._bit_generator)`)
                or another RandomState may draw from in its place: taking it is the first draw."""
                _first_use(self, "_bit_generator")
                return bit_generator.__get__(self, type(self))

            @_bit_generator.setter
            def _bit_generator(self, value: Any) -> None:
                bit_generator.__set__(self, value)

            @_bit_generator.deleter
            def _bit_generator(self) -> None:
                bit_generator.__delete__(self)

        class _Unseeded(RandomState):
            """An unseeded instance: unlike RandomState (`__slots__ = ()`), it has a `__dict__` for the
            watch's stand-ins."""

        # Named where the script finds it, so that pickling the class finds it again; numpy's own
        # modules keep the original class (unpickling an RNG makes one).
        for made in (RandomState, _Unseeded):
            made.__module__, made.__qualname__, made.__name__ = "numpy.random", "RandomState", "RandomState"
        np_random.RandomState = RandomState

        def pickle_class(cls: type) -> Any:
            """`pickle.dumps(type(rs))` of an unseeded one: numpy's class, as without seedcheck (by
            name, it would find the class above, not itself, and fail). Loads without seedcheck."""
            return (copy.copy, (original,)) if cls is _Unseeded else cls.__qualname__

        copyreg.pickle(_InstanceChecks, pickle_class)  # asked for classes of this metaclass only

    def _note_clock_seed(self, api: str, seed: Any) -> None:
        """An RNG object a line of the script seeds with the current time (hook/clock.py) differs
        from run to run as an unseeded one does: recorded, with its seed, at that line. Other
        seeded objects are pure functions of their seeds: not recorded."""
        detail: dict[str, Any] = {"api": api, "unseeded": False}
        clock.mark(detail, seed)
        if "clock" not in detail:
            return
        site = self._recorder.caller_site()
        if site is not None:
            detail["seed"] = shown = _jsonable_seed(seed)
            self._recorder.record_draw("rng", api, shown, detail, site=site)

    def _watch_unseeded(self, instance: Any, api: str, state_of: Callable[[Any], str], draws: list[str],
                        reads: tuple[str, ...], seeds: tuple[str, ...]) -> None:
        """Record an RNG object made without a seed at its first draw, or its first state read
        (`reads`: a copy, a pickle, `get_state`), which a copy then draws from in its place: the
        state read is recorded, at the line that made the object. Its methods are shadowed in the
        instance's own `__dict__` until then (not a name the script set there), and dropped at once
        after, so later draws cost nothing; the shadows hold the instance weakly, and no copy or
        pickle holds them (they are gone before the state is read). Only for an object a line of
        the script makes (not a library, for its own ends: tempfile's names); a seed or a state
        given before the first draw ends the watch unrecorded."""
        recorder = self._recorder
        site = recorder.caller_site()
        if site is None:
            return
        held = weakref.ref(instance)
        shadows: dict[str, Any] = {}

        def unwatch(instance: Any) -> None:
            own = instance.__dict__
            for name, shadow in shadows.items():
                if own.get(name) is shadow:
                    del own[name]

        def record(instance: Any, name: str) -> None:
            unwatch(instance)
            detail = {"api": api, "unseeded": True, **({"state_read": name} if name not in draws else {})}
            recorder.guarded(api, lambda: recorder.record_draw(
                "rng", api, lambda: xxhash.xxh3_128(state_of(instance).encode()).hexdigest(),
                detail, site=site, counted_when_folded=True))

        def first_use(name: str, *args: Any, **kwargs: Any) -> Any:
            instance = held()
            _first_use(instance, name)
            return getattr(type(instance), name)(instance, *args, **kwargs)

        def seeding(name: str, *args: Any, **kwargs: Any) -> Any:
            instance = held()
            given = args[0] if args else kwargs.get("a", kwargs.get("seed", kwargs.get("state")))
            if given is not None and instance.__dict__.pop(_WATCHED, None) is not None:
                unwatch(instance)  # seeded (or given a state) before any draw: the script's seed decides it now
            return getattr(type(instance), name)(instance, *args, **kwargs)

        own = instance.__dict__
        own[_WATCHED] = record
        cls = type(instance)
        for names, call in ((draws, first_use), ([n for n in reads if hasattr(cls, n)], first_use), (seeds, seeding)):
            for name in names:
                if name not in own:
                    own[name] = shadows[name] = functools.partial(call, name)

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

        return _as_public(draw, api)

    def _wrap(self, api: str, rng: str, original: Callable[..., Any], state: Callable[[], str]) -> Callable[..., Any]:
        kind = "shuffle" if api.endswith(("shuffle", "permutation")) else "rng"

        @functools.wraps(original)
        def draw(*args: Any, **kwargs: Any) -> Any:
            self._recorder.guarded(api, lambda: self._record(kind, api, rng, state(), args))
            return original(*args, **kwargs)

        return _as_public(draw, api)

    def _record(self, kind: str, api: str, rng: str, state_fp: str, args: tuple) -> None:
        size = _size(args[0]) if args else None
        value = xxhash.xxh3_128(f"{state_fp}|{size}".encode()).hexdigest()
        detail = {"api": api, "rng": rng, "size": size, "seeded": self._is_seeded(rng)}
        self._recorder.record_draw(kind, api, value, detail)


def _first_use(instance: Any, name: str) -> None:
    """An RNG object's draw or state read (`name`): the first of a watched one is recorded, once,
    whichever thread pops the watch first."""
    own = getattr(instance, "__dict__", None)
    record = own.pop(_WATCHED, None) if own is not None else None
    if record is not None:
        record(instance, name)


def _as_public(wrapper: Callable[..., Any], api: str) -> Any:
    """The wrapper as the script should see it. numpy's and Python's global draws are bound
    methods of a hidden RNG instance, which pickle copies, state and all (a process pool gets the
    RNG as it was): the stand-in pickles as its original. Other functions pickle by name: named
    as the module function they replace, pickle finds the wrapper there."""
    original = getattr(wrapper, "__wrapped__", None)
    if getattr(original, "__self__", None) is not None and not isinstance(original.__self__, type(sys)):
        return _BoundStandIn(wrapper, original)
    wrapper.__module__, wrapper.__qualname__ = api.rsplit(".", 1)
    return wrapper


class _BoundStandIn:
    """Calls the wrapper; pickles, and answers attribute questions (`__self__`), as the original."""

    def __init__(self, wrapper: Callable[..., Any], original: Any) -> None:
        functools.update_wrapper(self, original)
        self._call = wrapper

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self.__wrapped__.__reduce_ex__(protocol)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["__wrapped__"], name)

    def __repr__(self) -> str:
        return repr(self.__wrapped__)


def _python_state(generator: Any) -> str:
    version, words, gauss = generator.getstate()
    digest = xxhash.xxh3_128(array.array("Q", words).tobytes())
    digest.update(repr((version, gauss)).encode())
    return digest.hexdigest()


def numpy_state(np_random: Any) -> Callable[[], str]:
    """A fingerprint of the legacy global RNG's whole state: MT19937's key and position and the
    legacy Gaussian's cached second value (two runs can agree on the first and not on the second).
    `get_state()` takes ~33 µs: a busy site of value draws reads it now and then only (record_draw)."""
    from seedcheck.fingerprint import array_fingerprint

    get_state = np_random.get_state

    def state() -> str:
        current = get_state(legacy=False)  # legacy=True warns when the script swapped the bit generator
        if current.get("bit_generator") != "MT19937":  # np.random.set_bit_generator
            return xxhash.xxh3_128(repr(current).encode()).hexdigest()
        inner = current["state"]
        return array_fingerprint(inner["key"]) + f":{inner['pos']}:{current['has_gauss']}:{current['gauss']!r}"

    return state


def _draw_names(rng_class: type, not_draws: tuple[str, ...]) -> list[str]:
    """The public methods of an RNG class that draw: all but those that seed or read its state."""
    return sorted(name for name in dir(rng_class) if not name.startswith("_") and name not in not_draws
                  and callable(getattr(rng_class, name)))


def _jsonable_seed(seed: Any) -> Any:
    """An int as it is (numpy's too); a pair or an array as a list; anything else as its repr."""
    try:
        return operator.index(seed)
    except TypeError:
        pass
    try:
        return [operator.index(value) for value in seed]
    except TypeError:
        return repr(seed)[:80]


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
