"""What in a tf.data pipeline can make its elements' order or content differ from run to run, read
off the dataset a training reads (fit's `x`, a custom loop's iterator) when it starts; and a file
`Dataset.cache` the runs share, which hides such a difference (a warning in the report).

Kept with the data stage, so that a hint can name the line at fault instead of listing every
possible cause, and blame no shuffle that feeds other data (a validation set's):
- its shuffles, with the script's line and whether they had a seed (and so its `Dataset.random`
  streams, which `sample_from_datasets` draws from);
- maps and interleaves that run in parallel with deterministic=False, or under
  `Options().deterministic = False`: elements come out in the order they finish;
- parallel maps whose function draws from random state (stateful random ops, or stateless ones
  seeded from a variable the function advances, as Keras's random layers do): which element gets
  which draw follows the thread scheduling.
"""

from __future__ import annotations

import functools
import inspect
import os
from typing import Any, Callable

from seedcheck.hook.files import in_run_directory
from seedcheck.hook.recorder import Recorder

# Random ops that draw from per-op or per-generator state.
STATEFUL_RANDOM_OPS = frozenset({
    "RandomUniform", "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal", "RandomShuffle",
    "RandomGamma", "RandomPoisson", "RandomPoissonV2", "Multinomial", "ParameterizedTruncatedNormal",
    "StatefulUniform", "StatefulUniformInt", "StatefulUniformFullInt", "StatefulStandardNormalV2",
    "StatefulTruncatedNormal", "StatefulRandomBinomial", "RngReadAndSkip", "RngSkip",
    "RandomCrop", "SampleDistortedBoundingBox", "SampleDistortedBoundingBoxV2",
})
_VARIABLE_UPDATES = frozenset({"AssignAddVariableOp", "AssignVariableOp", "AssignSubVariableOp"})
_MAX_NODES = 200  # a pipeline's datasets walked at most (a zip of many files stays cheap)
_MADE = "_seedcheck_made"  # in a dataset's __dict__: the transformation and line that made it


class PipelineSites:
    """Notes, on each dataset a map, an interleave or a shuffle makes, the script's line; and warns
    of a file cache the runs share."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._noted_caches: set[str] = set()

    def install(self, dataset_class: type) -> None:
        for name in ("map", "interleave"):
            setattr(dataset_class, name, self._wrap(name, getattr(dataset_class, name)))
        dataset_class.with_options = self._wrap_options(dataset_class.with_options)  # type: ignore[attr-defined]
        dataset_class.cache = self._wrap_cache(dataset_class.cache, "cache")  # type: ignore[attr-defined]
        dataset_class.snapshot = self._wrap_cache(dataset_class.snapshot, "snapshot")  # type: ignore[attr-defined]

    def _wrap(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(original)

        @functools.wraps(original)
        def transformation(dataset: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(dataset, *args, **kwargs)
            self._recorder.guarded("data", lambda: self.tag(result, name, deterministic=signature.bind(
                dataset, *args, **kwargs).arguments.get("deterministic")))
            return result

        return transformation

    def tag(self, dataset: Any, op: str, **extra: Any) -> None:
        dataset.__dict__[_MADE] = {"op": op, "site": self._recorder.user_site(), **extra}

    def _wrap_options(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """`with_options(options)` whose options turn determinism off: its line is the one to change
        (the maps it makes nondeterministic were written to be deterministic)."""
        @functools.wraps(original)
        def with_options(dataset: Any, options: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(dataset, options, *args, **kwargs)
            if getattr(options, "deterministic", None) is False:
                self._recorder.guarded("data", lambda: self.tag(result, "with_options", deterministic=False))
            return result

        return with_options

    def _wrap_cache(self, original: Callable[..., Any], method: str) -> Callable[..., Any]:
        """`Dataset.cache(filename)`, `Dataset.snapshot(path)`: the file outlives the run, and the next
        run reads it back instead of making its elements, so a difference in them (an unseeded
        augmentation before the cache) cannot show. Said as a warning, once per call site."""
        @functools.wraps(original)
        def cache(dataset: Any, filename: Any = "", *args: Any, **kwargs: Any) -> Any:
            if isinstance(filename, (str, os.PathLike)) and os.fspath(filename):
                self._recorder.guarded(f"tf.data.Dataset.{method}",
                                       lambda: self._warn_file_cache(method, os.fspath(filename)))
            return original(dataset, filename, *args, **kwargs)

        return cache

    def _warn_file_cache(self, method: str, filename: str) -> None:
        if in_run_directory(filename):
            return  # the run's own file: no other run reads it
        site = self._recorder.user_site()
        key = f"note/dataset-file-{method}@{site or '?'}"
        if key in self._noted_caches:
            return
        self._noted_caches.add(key)
        what = "a file cache" if method == "cache" else "a snapshot"
        self._recorder.record("note", self._recorder.next_key(key),
                              f"Dataset.{method}({filename!r}){f' at {site}' if site else ''} writes {what} that "
                              "outlives the run: each run after the one that wrote it reads those elements back "
                              "instead of making them, so a difference in them (an unseeded augmentation before the "
                              f"{method}) cannot show; give each run its own path (under $SEEDCHECK_RUN_DIR) or remove "
                              f"the {method} before each run", site=site, detail={"warning": True, "filename": filename})


def describe(dataset: Any) -> dict[str, list[dict[str, Any]]] | None:
    """The order-relevant parts of the pipeline ending in `dataset` (None if it is not a dataset):
    {"shuffles": [{site, unseeded}], "nondeterministic": [{op, site}], "parallel_random": [{op,
    site, random}]}. Cached on the dataset: a loop reads the same one every epoch."""
    cached = getattr(dataset, "__dict__", {}).get("_seedcheck_pipeline")
    if cached is not None:
        return cached
    if not hasattr(dataset, "_inputs") or not hasattr(dataset, "options"):
        return None
    try:
        allows_nondeterminism = dataset.options().deterministic is False
    except Exception:  # noqa: BLE001 - a dataset that cannot say: its own flags still count
        allows_nondeterminism = False
    found: dict[str, list[dict[str, Any]]] = {"shuffles": [], "nondeterministic": [], "parallel_random": []}
    stack, seen = [dataset], set()
    while stack and len(seen) < _MAX_NODES:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        made = getattr(node, "__dict__", {}).get(_MADE) or {}
        op, site = made.get("op") or type(node).__name__.strip("_"), made.get("site")
        if made.get("op") == "with_options" and "options_site" not in found:
            found["options_site"] = made.get("site")  # type: ignore[assignment]
        if made.get("op") == "shuffle":
            found["shuffles"].append({"site": site, "unseeded": bool(made.get("unseeded"))})
        elif made.get("op") == "random":  # Dataset.random, or the one sample_from_datasets draws from
            found["shuffles"].append({"site": site, "unseeded": bool(made.get("unseeded")),
                                      "api": made.get("called_by") or "tf.data.Dataset.random"})
        if hasattr(node, "_num_parallel_calls"):  # a parallel map or interleave
            given = made.get("deterministic")  # an interleave keeps it only in its op
            flag = getattr(node, "_deterministic", None) or ("default" if given is None else str(bool(given)).lower())
            if flag == "false":
                found["nondeterministic"].append({"op": op, "site": site})
            elif flag == "default" and allows_nondeterminism:  # the call left it to the Options
                found["nondeterministic"].append({"op": op, "site": site, "by_options": True})
            random = _random_state_ops(node) if not _serial(node) else []
            if random:
                found["parallel_random"].append({"op": op, "site": site, "random": random})
        try:
            stack.extend(node._inputs())
        except Exception:  # noqa: BLE001 - a dataset type that cannot list its inputs ends the walk there
            continue
    try:
        dataset.__dict__["_seedcheck_pipeline"] = found
    except (AttributeError, TypeError):
        pass
    return found


def _serial(node: Any) -> bool:
    """A "parallel" transformation whose draws happen one element at a time: num_parallel_calls=1,
    or any under enable_op_determinism(), which runs a map with stateful ops serially (TF's
    documentation). Its random draws then follow the element order."""
    try:
        if int(node._num_parallel_calls) == 1:
            return True
        from tensorflow.python.framework import config  # tf.config.experimental has no reader of it

        return bool(config.is_op_determinism_enabled())
    except Exception:  # noqa: BLE001 - a node that cannot say: treated as parallel
        return False


def _random_state_ops(node: Any) -> list[str]:
    """The random ops in a transformation's functions that draw from state: stateful ones, and
    stateless ones where the function also advances a variable (a Keras SeedGenerator)."""
    names: set[str] = set()
    try:
        functions = node._functions()
    except Exception:  # noqa: BLE001
        return []
    for wrapper in functions:
        graph = getattr(getattr(wrapper, "function", None), "graph", None)
        if graph is None:
            continue
        types = {operation.type for operation in graph.get_operations()}
        names |= types & STATEFUL_RANDOM_OPS
        stateless = {t for t in types if t.startswith("StatelessRandom")}
        if stateless and types & _VARIABLE_UPDATES:
            names |= stateless
    return sorted(names)
