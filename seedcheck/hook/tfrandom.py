"""Eager `tf.random.*` draws, `tf.random.Generator`s and `Dataset.shuffle` calls, with call sites.

For each draw: a fingerprint of what it returned, the op seed it was given and the global seed in
force (an op with neither is marked unseeded). Only eager draws are recorded: a draw inside a
tf.function or a tf.data map runs once per step in-graph, where a Python wrapper sees only the
trace (its effect shows in the data and weights stages instead).

Draws are capped per call site by `Recorder.record_draw`.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable

from seedcheck.fingerprint import array_fingerprint
from seedcheck.hook import clock
from seedcheck.hook.patches import replace_all_everywhere
from seedcheck.hook.pipeline import PipelineSites
from seedcheck.hook.recorder import Recorder

DRAWS = ("uniform", "normal", "truncated_normal", "categorical", "gamma", "poisson")
# Pure functions of the seed they are given: recorded with it, so a seed computed as the script runs
# (the clock) shows at its line.
STATELESS_DRAWS = ("stateless_binomial", "stateless_categorical", "stateless_gamma", "stateless_normal",
                   "stateless_parameterized_truncated_normal", "stateless_poisson", "stateless_truncated_normal",
                   "stateless_uniform")
GENERATOR_DRAWS = ("normal", "uniform", "truncated_normal", "uniform_full_int", "binomial")


class TFRandomCapture:
    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._listing = threading.local()  # .depth: inside Dataset.list_files (whose shuffle is its own), per thread
        self._sampling = threading.local()  # .depth: inside Dataset.sample_from_datasets (its Dataset.random), per thread
        self._creation_lock = threading.Lock()
        self._noted_ops: set[tuple[str, str]] = set()  # (op type, site) of unseeded ops in functions, said once
        self._seeded_by_attributes: dict[str, bool] = {}  # op type -> has seed and seed2 attributes (stateful RNG)
        self.pipeline: PipelineSites | None = None

    def install(self, tf: Any) -> None:
        from tensorflow.python.eager import context  # the global seed, read without side effects

        self._tf, self._context = tf, context
        replacements = {}
        for name in (*DRAWS, "shuffle", *STATELESS_DRAWS):
            original = getattr(tf.random, name, None)
            if original is None:  # a stateless op another TF version lacks
                continue
            kind = "shuffle" if name == "shuffle" else "rng"
            replacements[name] = (original, self._wrap_draw(f"tf.random.{name}", kind, original))
        # One pass over TensorFlow's ~2000 loaded modules, not one a draw (3 ms each)
        replace_all_everywhere(("tensorflow",), replacements)
        dataset = tf.data.Dataset
        dataset.shuffle = self._wrap_dataset_shuffle(dataset.shuffle)
        # Dataset.list_files shuffles the names it lists by default, through Dataset.shuffle: that
        # call is recorded at the script's line, marked as list_files' (whose own arguments fix it).
        dataset.list_files = staticmethod(_inside(self._listing, dataset.list_files))
        self._install_generators(tf.random.Generator)
        # Last: it reaches into a private module, and if a TF version moved it, the rest is in place.
        self._recorder.guarded("tf.data.Dataset.random", lambda: self._install_dataset_random(tf))

    def note_unseeded_ops(self, function: Any) -> None:
        """Draws inside a tf.function are not recorded one by one; a random op traced with no seed
        at all (no op seed, no global seed yet) is said, once, when its function is first called
        (StepCapture: not while it is traced, when a wrapper would stand in the op-creation stack
        TensorFlow quotes in its errors). It draws differently in every run, and what it changes
        may reach no recorded stage (a test-time augmentation's predictions, a sample generated
        after training). A loop body's or a branch's ops are in functions of their own. Under XLA
        (jit_compile) such an op repeats from run to run: not said."""
        if _compiled(getattr(function, "_attrs", None)):
            return
        pending, seen = [function._func_graph], set()
        while pending:
            current = pending.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            self._note_unseeded_ops_of(current)
            pending.extend(nested.graph for nested in getattr(current, "_functions", {}).values()
                           if getattr(nested, "graph", None) is not None
                           and not _compiled(getattr(nested, "attributes", None)))

    def _note_unseeded_ops_of(self, graph: Any) -> None:
        for op in graph.get_operations():
            seeded_by_attributes = self._seeded_by_attributes.get(op.type)
            if seeded_by_attributes is None:  # once per op type: a sampler too (LogUniformCandidateSampler)
                names = {attribute.name for attribute in op.op_def.attr}
                seeded_by_attributes = self._seeded_by_attributes[op.type] = {"seed", "seed2"} <= names
            if not seeded_by_attributes or op.get_attr("seed") or op.get_attr("seed2"):
                continue
            site = next((self._recorder.site_of(frame.filename, frame.lineno) for frame in reversed(op.traceback)
                         if self._recorder.is_user_file(frame.filename)), None)
            if site is None or (op.type, site) in self._noted_ops:
                continue  # a library's own function, or said already
            self._noted_ops.add((op.type, site))
            self._recorder.record(
                "note", self._recorder.next_key(f"note/unseeded-graph-op@{site}"),
                f"a {op.type} op ({op.name}) traced into a tf.function from {site} has no seed: no seed= of its "
                "own and no TensorFlow global seed when the function was traced, so it draws differently in every "
                "run. seedcheck does not record draws inside functions: what it changes shows only where it "
                "reaches a recorded stage (weights, data, an --artifact). Pass seed= to the op, or call "
                "keras.utils.set_random_seed(seed) before the function is traced (its first call, or "
                "get_concrete_function)",
                site=site, detail={"warning": True, "op": op.type, "name": op.name})

    def _install_dataset_random(self, tf: Any) -> None:
        """`Dataset.random` streams, made by the script or by `sample_from_datasets` for it."""
        from tensorflow.python.data.ops import random_op  # Dataset.random's, and the deprecated RandomDataset's

        random_op._RandomDataset.__init__ = self._wrap_dataset_random(random_op._RandomDataset.__init__)
        deprecated = getattr(getattr(tf.data, "experimental", None), "RandomDataset", None)
        if isinstance(deprecated, type) and "__init__" in deprecated.__dict__:  # its deprecation wrapper holds the original
            deprecated.__init__ = self._wrap_dataset_random(deprecated.__init__)
        # sample_from_datasets draws which dataset each element comes from through a Dataset.random
        # it makes: that one is recorded at the script's line, marked as sample_from_datasets'.
        tf.data.Dataset.sample_from_datasets = staticmethod(_inside(self._sampling, tf.data.Dataset.sample_from_datasets))

    def _install_generators(self, generator_class: type) -> None:
        """tf.random.Generator: its creation (seeded by `from_seed`, or from OS entropy by
        `from_non_deterministic_state`, as `get_global_generator` does) and its eager draws."""
        for name, seeded in (("from_seed", True), ("from_non_deterministic_state", False)):
            create = generator_class.__dict__[name].__func__
            setattr(generator_class, name, classmethod(self._wrap_creation(f"tf.random.Generator.{name}", create, seeded)))
        for name in GENERATOR_DRAWS:
            setattr(generator_class, name, self._wrap_generator_draw(name, getattr(generator_class, name)))
        original_reset = generator_class.reset_from_seed

        @functools.wraps(original_reset)
        def reset_from_seed(generator: Any, *args: Any, **kwargs: Any) -> Any:
            generator.__dict__["_seedcheck_seeded"] = True  # TF's documented way to seed the global one
            return original_reset(generator, *args, **kwargs)

        generator_class.reset_from_seed = reset_from_seed

    def _wrap_creation(self, api: str, create: Callable[..., Any], seeded: bool) -> Callable[..., Any]:
        """The generator's making is recorded at its first draw, with the state it draws from then:
        `reset_from_seed` (or `reset`) between the two replaces the state it was made with, which
        then reaches nothing (a global generator made from OS entropy, then seeded)."""
        @functools.wraps(create)
        def creation(cls: type, *args: Any, **kwargs: Any) -> Any:
            generator = create(cls, *args, **kwargs)
            generator.__dict__["_seedcheck_seeded"] = seeded
            if self._tf.executing_eagerly():
                self._recorder.guarded(api, lambda: generator.__dict__.__setitem__(
                    "_seedcheck_made", (api, _int_or_none(args[0]) if seeded and args else None,
                                        self._recorder.user_site())))
            return generator

        return creation

    def _record_creation(self, generator: Any) -> None:
        """The pending record of the generator's making, before its first draw (eager, or traced
        into a function: the state is read outside the graph, as it stands before the call)."""
        with self._creation_lock:  # two threads' first draws: one records, the other waits, then draws
            made = generator.__dict__.get("_seedcheck_made")
            if made is None:
                return
            with self._tf.init_scope():
                state = array_fingerprint(generator.state.numpy())
            del generator.__dict__["_seedcheck_made"]  # only now: a draw that sees it gone comes after the read
        api, seed, site = made
        seeded = bool(generator.__dict__.get("_seedcheck_seeded"))
        detail = {"api": api, "seed": seed, "unseeded": not seeded}
        if seeded and seed is None:
            detail["reset_from_seed"] = True
        clock.mark(detail, seed)
        self._recorder.record_draw("rng", api, state, detail, site=site)

    def _wrap_generator_draw(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        api = f"tf.random.Generator.{name}"

        @functools.wraps(original)
        def draw(generator: Any, *args: Any, **kwargs: Any) -> Any:
            if "_seedcheck_made" in generator.__dict__:
                self._recorder.guarded(api, lambda: self._record_creation(generator))
            result = original(generator, *args, **kwargs)
            if self._tf.executing_eagerly():
                seeded = generator.__dict__.get("_seedcheck_seeded")
                self._recorder.guarded(api, lambda: self._recorder.record_draw(
                    "rng", api, array_fingerprint(result.numpy()),
                    {"api": api, "generator_seeded": seeded, "unseeded": seeded is False,
                     "shape": list(result.shape), "dtype": result.dtype.name}))
            return result

        return draw

    def _wrap_draw(self, api: str, kind: str, original: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(original)

        @functools.wraps(original)
        def draw(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            if self._tf.executing_eagerly():
                self._recorder.guarded(api, lambda: self._record_draw(api, kind, signature, args, kwargs, result))
            return result

        return draw

    def _record_draw(self, api: str, kind: str, signature: inspect.Signature, args: tuple, kwargs: dict,
                     result: Any) -> None:
        stateless, site = api.startswith("tf.random.stateless_"), None
        if stateless:
            # Only the script's own calls, checked first: Keras's TF backend draws every initializer
            # and Dropout mask through these (seeded by its SeedGenerators, which have rows of their own).
            site = self._recorder.caller_site()
            if site is None:
                return
        op_seed = signature.bind(*args, **kwargs).arguments.get("seed")
        if stateless:  # its seed alone decides what it draws
            import numpy as np

            detail = {"api": api, "seed": [int(v) for v in np.asarray(op_seed).ravel()], "unseeded": False,
                      "shape": list(result.shape), "dtype": result.dtype.name}
        else:
            global_seed = self._context.global_seed()
            detail = {"api": api, "op_seed": _int_or_none(op_seed), "global_seed": global_seed,
                      "unseeded": op_seed is None and global_seed is None,
                      "shape": list(result.shape), "dtype": result.dtype.name}
        clock.mark(detail, detail.get("seed", detail.get("op_seed")))
        self._recorder.record_draw(kind, api, array_fingerprint(result.numpy()), detail, site=site)

    def _wrap_dataset_shuffle(self, original: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(original)

        @functools.wraps(original)
        def shuffle(dataset: Any, *args: Any, **kwargs: Any) -> Any:
            unseeded: list[bool] = []
            self._recorder.guarded("tf.data.Dataset.shuffle", lambda: unseeded.append(
                self._record_dataset_shuffle(signature, dataset, args, kwargs)))
            result = original(dataset, *args, **kwargs)
            if self.pipeline is not None and unseeded:  # the pipeline a training reads names it (pipeline.py)
                self._recorder.guarded("data", lambda: self.pipeline.tag(result, "shuffle", unseeded=unseeded[0]))  # type: ignore[union-attr]
            return result

        return shuffle

    def _wrap_dataset_random(self, original_init: Callable[..., Any]) -> Callable[..., Any]:
        """The dataset `Dataset.random` makes (and `tf.data.experimental.RandomDataset`, and the one
        `sample_from_datasets` draws from): a stream of random numbers, seeded like a shuffle (op
        seed, or the global seed when it is made). Recorded as a shuffle is, and noted on the
        pipeline it feeds."""
        signature = inspect.signature(original_init)

        @functools.wraps(original_init)
        def __init__(dataset: Any, *args: Any, **kwargs: Any) -> None:
            called_by = "tf.data.Dataset.sample_from_datasets" if getattr(self._sampling, "depth", 0) else None
            unseeded: list[bool] = []
            self._recorder.guarded("tf.data.Dataset.random", lambda: unseeded.append(
                self._record_dataset_random(signature, dataset, args, kwargs, called_by)))
            original_init(dataset, *args, **kwargs)
            if self.pipeline is not None and unseeded:
                self._recorder.guarded("data", lambda: self.pipeline.tag(  # type: ignore[union-attr]
                    dataset, "random", unseeded=unseeded[0], called_by=called_by))

        return __init__

    def _record_dataset_random(self, signature: inspect.Signature, dataset: Any, args: tuple, kwargs: dict,
                               called_by: str | None) -> bool:
        bound = signature.bind(dataset, *args, **kwargs)
        seed = _int_or_none(bound.arguments.get("seed"))
        global_seed = self._context.global_seed()
        config = {"seed": seed, "rerandomize_each_iteration": bound.arguments.get("rerandomize_each_iteration"),
                  "global_seed": global_seed}
        detail = {"api": "tf.data.Dataset.random", **config, "unseeded": seed is None and global_seed is None}
        if called_by is not None:
            detail["called_by"] = called_by
        clock.mark(detail, seed)
        self._recorder.record_draw("shuffle", "tf.data.Dataset.random", config, detail)
        return bool(detail["unseeded"])

    def _record_dataset_shuffle(self, signature: inspect.Signature, dataset: Any, args: tuple, kwargs: dict) -> bool:
        """Record the call; whether it shuffles with neither an op seed nor a global seed."""
        bound = signature.bind(dataset, *args, **kwargs)
        bound.apply_defaults()
        seed = _int_or_none(bound.arguments.get("seed"))
        global_seed = self._context.global_seed()
        config = {"buffer_size": _int_or_none(bound.arguments.get("buffer_size")), "seed": seed,
                  "reshuffle_each_iteration": bound.arguments.get("reshuffle_each_iteration"),
                  "global_seed": global_seed}
        detail = {"api": "tf.data.Dataset.shuffle", **config, "unseeded": seed is None and global_seed is None}
        via = self._recorder.calling_library()
        if via is not None:
            detail["via"] = via
        if getattr(self._listing, "depth", 0):
            detail["called_by"] = "tf.data.Dataset.list_files"
        clock.mark(detail, seed)
        self._recorder.record_draw("shuffle", "tf.data.Dataset.shuffle", config, detail)
        return bool(detail["unseeded"])


def _inside(calls: threading.local, original: Callable[..., Any]) -> Callable[..., Any]:
    """`original`, counting in `calls.depth` (per thread) the calls of it under way: what it calls
    for the script is told apart from the script's own calls."""
    @functools.wraps(original)
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.depth = getattr(calls, "depth", 0) + 1
        try:
            return original(*args, **kwargs)
        finally:
            calls.depth -= 1

    return counted


def _compiled(attributes: Any) -> bool:
    """Whether a function's attributes ask XLA to compile it (jit_compile=True): its random ops
    then take a fixed seed, and repeat."""
    must = attributes.get("_XlaMustCompile") if isinstance(attributes, dict) else None
    return bool(getattr(must, "b", False))


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


__all__ = ["TFRandomCapture"]
