"""Divergence patterns -> likely cause and fix.

A table of rules. Each looks at the comparison (which stage diverged first, which stages agree)
and at the provenance the hook recorded (which seeding calls the script made, and where), and
either explains the pattern or passes. The first rule that matches explains the first divergence;
`warnings` collects what is suspicious although nothing diverged (a seed that is ignored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from seedcheck.baseline import rerecord_command
from seedcheck.compare import (CLOSE, DATASET_DRAWS, DIVERGED, IGNORED, MISSING, REPRODUCIBLE, SEED_INSENSITIVE, Comparison,
                               Divergence, RunResult, Stage, canonical, changed_sources, run_settings, settings_differ)
from seedcheck.hook.seeding import RESEEDING_LIBRARIES, RNGS_SEEDED_BY
from seedcheck.report.labels import stage_label
from seedcheck.trace import CLOCK_UNITS


@dataclass(frozen=True)
class Hint:
    rule: str
    cause: str
    fix: str


@dataclass(frozen=True)
class SeedingCall:
    api: str
    site: str | None
    asked: object
    applied: object
    via: str | None = None  # the library that made the call for the script (keras.utils.split_dataset)
    overridden: bool | None = None  # the run's seed applied in its place (None: a trace that does not say)

    def seeds(self, rng: str) -> bool:
        """Whether this call seeded `rng` (python, numpy, tf): a call that asked for no seed did not."""
        return self.applied is not None and rng in RNGS_SEEDED_BY.get(self.api, ())


def seeding_calls(comparison: Comparison, after: str | None = None, before: str | None = None) -> list[SeedingCall]:
    """The seeding calls of the reference run, in order; with `after` / `before`, only those after /
    before that stage."""
    reference = comparison.reference
    if reference is None or reference.trace is None:
        return []
    events = reference.trace.events
    keys = [e.key for e in events]
    if after is not None:
        events = events[keys.index(after) + 1:] if after in keys else []
    elif before is not None:
        events = events[:keys.index(before)] if before in keys else list(events)
    calls = []
    for event in events:
        if event.kind == "seed":
            detail = event.detail or {}
            via, overridden = detail.get("via"), detail.get("overridden")
            calls.append(SeedingCall(str(detail.get("api", event.key)), event.site, detail.get("asked"),
                                     detail.get("applied"), via if isinstance(via, str) else None,
                                     overridden if isinstance(overridden, bool) else None))
    return calls


def _where(call: SeedingCall) -> str:
    return (f" at {call.site}" if call.site else "") + (f" (called by {call.via})" if call.via else "")


def _keras3_initializers(comparison: Comparison, divergence: Divergence) -> Hint | None:
    stage = divergence.stage
    at_init = stage.kind == "init" or (stage.kind == "weights" and stage.key.endswith("/init"))
    layer_rng = _detail(stage).get("api") == "keras.random.SeedGenerator" and _detail(stage).get("seed_arg") is None
    if not (at_init or layer_rng):
        return None
    calls = seeding_calls(comparison)
    tf_calls = [c for c in calls if c.api == "tf.random.set_seed" and c.applied is not None]
    numpy_calls = [c for c in calls if c.api == "numpy.random.seed" and c.applied is not None]
    seeds_python = any(c.seeds("python") for c in calls)
    if not (tf_calls or numpy_calls) or seeds_python:
        return None
    if layer_rng and _detail(stage).get("global"):
        what = "a keras.random op called with no seed= draws from Keras's global SeedGenerator, seeded"
    elif layer_rng:
        what = "a layer's random state (Dropout, noise, augmentation) given no seed draws its seed"
    else:
        what = "Keras 3 initializers (and Dropout) take their seeds"
    first = (tf_calls or numpy_calls)[0]
    if tf_calls:
        numpy_seeding = next((c for c in calls if c.seeds("numpy")), None)
        if numpy_seeding is None:
            seeded = f"the script seeds only TensorFlow{_where(first)}"
        elif numpy_seeding.site == first.site:  # one helper seeding both
            seeded = f"the script seeds TensorFlow and numpy{_where(first)}, not Python"
        else:
            seeded = f"the script seeds TensorFlow{_where(first)} and numpy{_where(numpy_seeding)}, not Python"
    else:
        seeded = f"the script seeds only numpy{_where(first)}"
    return Hint(
        "keras3-initializers",
        f"{what[0].upper()}{what[1:]} from Python's `random`, not from {first.api} ({seeded}).",
        f"call keras.utils.set_random_seed(seed) instead of (or besides) {first.api}: it seeds "
        "Python, NumPy and TensorFlow at once" + (f" (or pass seed= to {_layer(stage)})." if layer_rng else "."),
    )


def _detail(stage: Stage) -> dict:
    """The stage's detail as the first run recorded it."""
    event = next(iter(stage.events.values()), None)
    return (event.detail or {}) if event is not None else {}


def _seeds_nothing(comparison: Comparison, divergence: Divergence) -> Hint | None:
    if _seeds_globally(comparison) or _passes_own_seeds(comparison):
        return None
    if not _uses(comparison, "numpy"):
        fix = "seed at the start of the script: random.seed(seed) (or draw from random.Random(seed))"
    elif not _uses(comparison, "tensorflow"):
        fix = "seed at the start of the script: random.seed(seed) and np.random.seed(seed) (or draw from " \
              "random.Random(seed) / np.random.default_rng(seed))"
    else:
        fix = "call keras.utils.set_random_seed(seed) at the start of the script"
    return Hint(
        "seeds-nothing",
        "the script seeds nothing: every run starts from fresh random state, so weights, Dropout and "
        "shuffles differ from run to run.",
        f"{fix}; seedcheck passes each run's seed as $SEEDCHECK_SEED and as {{seed}} in the script's arguments.",
    )


def _seeds_globally(comparison: Comparison) -> bool:
    """Whether some seeding call (random.seed, np.random.seed, tf.random.set_seed, …) set a seed."""
    return any(c.applied is not None for c in seeding_calls(comparison))


def _passes_own_seeds(comparison: Comparison) -> bool:
    """Whether the script seeds by passing seed= to the calls themselves (Dataset.shuffle, a random
    op, a Keras layer's SeedGenerator, Generator.from_seed) rather than by a global seeding call:
    then it does not "seed nothing", and a later rule names the call that has no seed."""
    for stage in comparison.stages:
        detail = _detail(stage)
        if stage.kind == "seed" or (detail.get("via") and not detail.get("called_by")):
            continue  # a seeding call, or a library's own call (a Keras loader); list_files' is the script's
        if any(detail.get(name) is not None for name in ("seed", "op_seed", "seed_arg")):
            return True
    return False


def _exit_detail(comparison: Comparison) -> dict:
    reference = comparison.reference
    exit_event = reference.trace.find("exit") if reference and reference.trace else None
    return exit_event.detail if exit_event is not None and isinstance(exit_event.detail, dict) else {}


def _uses(comparison: Comparison, module: str) -> bool:
    """Whether the script imported `module` (tensorflow, numpy); yes when the trace does not say."""
    return bool(_exit_detail(comparison).get(f"{module}_used", True))


def _training_nondeterminism(comparison: Comparison, divergence: Divergence) -> Hint | None:
    stage = divergence.stage
    if stage.kind not in ("weights", "metrics") or stage.key.endswith("/init"):
        return None
    earlier = comparison.stages[: comparison.stages.index(stage)]
    inputs = [s for s in earlier if s.kind in ("init", "data") or (s.kind == "weights" and s.key.endswith("/init"))]
    if not inputs or any(s.verdict not in (REPRODUCIBLE, CLOSE) for s in inputs):
        return None
    data_recorded = any(s.kind == "data" for s in inputs)
    if not data_recorded:
        same = "initial weights are identical (the data order was not recorded: the data is read inside a " \
               "tf.function, or not through tf.data), yet training diverged"
    else:
        same = "initial weights and data order are identical, yet training diverged"
    # Only what differs between the two runs named: `vary` compares a control with several
    # variations, and another variation's setting (PYTHONHASHSEED) is not this pair's difference.
    pair = set(divergence.runs)
    differences = [d for d in comparison.env_differences if d.field not in COSMETIC_ENV_FIELDS
                   and len({canonical(v) for run, v in d.values.items() if run in pair}) > 1]
    if differences:
        listed = ", ".join(d.label for d in differences[:5])
        return Hint(
            "environment-difference",
            f"{same}, and the runs' environments differ ({listed}): thread counts, oneDNN, the CPU or a library version change the order of "
            "floating-point operations, and with it the last bits of the weights.",
            "run under the same settings (see the environment differences), or "
            + ("widen the tolerance: the first divergence names the value past it, and what it allows there."
               if comparison.tolerance.active else
               "hold the runs to a tolerance with --rtol/--atol if last-bit differences between machines are acceptable."),
        )
    hashing = not _hashseed_fixed(comparison)
    reference = comparison.reference
    header = reference.trace.header if reference is not None and reference.trace is not None else {}
    command = header.get("command") if isinstance(header.get("command"), list) else []
    target = header.get("target")
    seed = f" --seed {reference.seed}" if reference is not None and reference.seed is not None else ""
    vary = f"seedcheck vary {target if isinstance(target, str) else 'SCRIPT'}{seed} --vary hashseed"
    if isinstance(target, str) and command[:1] == [target] and len(command) > 1:
        vary += f" -- {' '.join(map(str, command[1:]))}"  # the script's arguments, after vary's own options
    return Hint(
        "training-nondeterminism",
        f"{same}: a nondeterministic op, thread scheduling or a oneDNN/XLA kernel differs between runs"
        + ("" if data_recorded else ", or the data order (a random op in the input "
           "pipeline, a tf.data shuffle seeded from a varying state)")
        + "; or a seed computed while the script runs (the clock, the process id) given to a stateless random op "
        "or a tf.random.Generator inside the step, where seedcheck does not see each draw"
        + ("; or Python's string hashing, as PYTHONHASHSEED is not set: a vocabulary or lookup table inside the "
           "model built from a set's order (StringLookup(vocabulary=list(set(words))))" if hashing else "") + ".",
        "look for seeds computed at run time in the training step and fix them"
        + (f"; `{vary}` tells whether "
           "string hashing is the cause (then sort the vocabulary)" if hashing else "")
        + "; then call tf.config.experimental.enable_op_determinism() before training, and fix the thread counts "
        "(tf.config.threading.set_intra_op_parallelism_threads / set_inter_op_parallelism_threads).",
    )


# Environment fields that differ between any two machines without changing a computation.
COSMETIC_ENV_FIELDS = ("host",)


RNG_NAMES = {"numpy": "numpy's global RNG", "python": "Python's `random`"}
# RNG objects recorded when the script's line makes one without a seed (api -> how it is written).
UNSEEDED_RNG_OBJECTS = {"numpy.random.default_rng": "np.random.default_rng",
                        "numpy.random.RandomState": "np.random.RandomState", "random.Random": "random.Random",
                        **{f"numpy.random.{name}": f"np.random.{name}"  # bit generators (pyrandom.install_numpy_entropy)
                           for name in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64", "SeedSequence")}}
# ...and where the script's line names no class (an alias, a `default_factory`): what, and the fix.
UNSEEDED_UNNAMED_RNG_OBJECTS = {"numpy.random.bit_generator": (
    "a numpy bit generator or SeedSequence made", "pass a seed where it is made: np.random.PCG64(seed), "
    "np.random.SeedSequence(seed), …")}
# How the script took an unseeded RNG object's state before drawing (detail `state_read`: pyrandom.STATE_READS).
STATE_TAKEN = {**dict.fromkeys(("__reduce_ex__", "__reduce__", "__copy__", "__deepcopy__"), "copied or pickled"),
               "_bit_generator": "its _bit_generator", "get_state": "get_state()", "getstate": "getstate()",
               "__getstate__": "__getstate__()"}
SEEDING_FIXES = {
    "numpy": "seed before drawing: call keras.utils.set_random_seed(seed) (or np.random.seed) before this line, "
             "or draw from a seeded np.random.default_rng(seed)",
    "python": "seed before drawing: call keras.utils.set_random_seed(seed) (or random.seed) before this line, "
              "or draw from a seeded random.Random(seed)",
}


def _worker_threads(stage: Stage) -> set[int]:
    """The numbers of the threads other than the main one that this draw stage ran in, over every
    run (each run numbers its threads from 1 in the order they first draw)."""
    seen: set[int] = set()
    for event in stage.events.values():
        detail = event.detail if isinstance(event.detail, dict) else {}
        seen.update(t for t in [detail.get("thread"), *detail.get("threads", ())] if isinstance(t, int) and t > 0)
    return seen


def _is_seeded_draw(stage: Stage) -> bool:
    detail = _detail(stage)
    return bool(detail.get("seeded", not detail.get("unseeded")))


def _threaded_draws(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """Seeded draws of the user's code made in two or more threads besides the main one (a
    numpy_function in a parallel tf.data map): the RNG is seeded, but which element gets which draw
    follows the scheduler. A draw is fingerprinted by the RNG state before it, which threads taking
    turns do not change, so the data is what shows it: the rule fires on a data divergence, or on
    a threaded draw that differs itself. One worker thread (a script trained inside a thread, a
    serial map) is no evidence of that; an unseeded draw or Dataset.shuffle is a better cause."""
    stage = divergence.stage
    draws = [s for s in comparison.stages if s.kind in ("shuffle", "rng")]

    def line(draw: Stage) -> tuple[str | None, str]:  # one call in the script: its site and API
        return draw.site, _detail(draw).get("api", "")

    threads_at: dict[tuple[str | None, str], set[int]] = {}  # worker threads the seeded draws of a line ran in
    for s in draws:
        if s.site and _is_seeded_draw(s):
            threads_at.setdefault(line(s), set()).update(_worker_threads(s))
    threaded = [s for s in draws if len(threads_at.get(line(s), ())) >= 2]
    if stage.kind in ("shuffle", "rng"):
        threaded = [s for s in threaded if s is stage]
    else:
        # An unseeded Dataset.shuffle, or Dataset.random (sample_from_datasets' choice of source):
        # draws in tf.data's threads taking turns in a fixed order are no cause beside it.
        better_cause = any(not _is_seeded_draw(s) and (s.verdict == DIVERGED or _detail(s).get("api")
                                                       in DATASET_DRAWS) for s in draws)
        if stage.kind != "data" or better_cause:
            return None
    if not threaded:
        return None
    site, api = line(threaded[0])
    threads = len(threads_at[(site, api)])
    api = api or "a random draw"
    return Hint(
        "threaded-draws",
        f"{api} at {site} draws from a seeded global RNG in {threads} threads besides the main one (a "
        "tf.numpy_function or py_function in a tf.data map with num_parallel_calls): which element gets which "
        "draw depends on how the threads are scheduled, so no seed makes it repeat.",
        "give each element randomness of its own, seeded by something fixed about it (np.random.default_rng([seed, "
        "index]), or stateless TF random ops with a per-element seed); or run that step in one thread "
        "(num_parallel_calls=None).",
    )


def _unseeded_rng_object(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """An RNG object a line of the script made without a seed. Before seeds-nothing: seeding the
    global RNGs, as that rule advises, does not reach it."""
    stage = divergence.stage
    detail = _detail(stage)
    made, unnamed = UNSEEDED_RNG_OBJECTS.get(detail.get("api", "")), UNSEEDED_UNNAMED_RNG_OBJECTS.get(detail.get("api", ""))
    if stage.kind != "rng" or (made is None and unnamed is None) or not detail.get("unseeded"):
        return None
    subject, fix = (f"{made}()", f"pass a seed: {made}(seed)") if made else unnamed
    where = f" at {stage.site}" if stage.site else ""
    unseeded = _seeds_nothing(comparison, divergence)  # the rest of the script's randomness, too
    read = detail.get("state_read")  # a copy of its state, made before any draw, draws in its place
    drawn = (f"and the script took its state ({STATE_TAKEN.get(read, read)}) before any draw from it: what a "
             "copy draws differs from run to run") if read else "so what it draws differs from run to run"
    return Hint("unseeded-draw", f"{subject}{where} has no seed: it starts from fresh OS entropy, {drawn}"
                + ("; and the script seeds nothing else either." if unseeded else "."),
                fix + (f"; and {unseeded.fix}" if unseeded else "."))


def _unseeded_draw(comparison: Comparison, divergence: Divergence) -> Hint | None:
    stage = divergence.stage
    detail = _detail(stage)
    if stage.kind not in ("shuffle", "rng") or "api" not in detail:
        return None
    api, where = detail["api"], f" at {stage.site}" if stage.site else ""
    if detail.get("rng") in RNG_NAMES:
        rng = detail["rng"]
        later = [c for c in seeding_calls(comparison, after=stage.key) if rng in RNGS_SEEDED_BY.get(c.api, ())]
        before = [c for c in seeding_calls(comparison, before=stage.key) if rng in RNGS_SEEDED_BY.get(c.api, ())]
        if not detail.get("seeded") and before and before[-1].applied is None:
            cause = (f"{api}{where} drew from {RNG_NAMES[rng]} after {before[-1].api}(){_where(before[-1])} reseeded "
                     "it from fresh OS entropy (it was called without a seed).")
            fix = "pass a seed to that call" + (", or remove it: an earlier call seeds it" if any(
                c.applied is not None for c in before) else f"; {SEEDING_FIXES[rng]}")
            return Hint("unseeded-draw", cause, fix + ".")
        if detail.get("seeded"):
            cause = (f"{api}{where} drew from {RNG_NAMES[rng]}, seeded, yet in a different state: something "
                     "drew from it a varying number of times before.")
        elif later:
            cause = (f"{api}{where} drew from {RNG_NAMES[rng]} before anything seeded it: the seeding call "
                     f"comes later ({later[0].api}{_where(later[0])}).")
        else:
            cause = f"{api}{where} drew from {RNG_NAMES[rng]}, which nothing seeds."
        return Hint("unseeded-draw", cause, SEEDING_FIXES[rng] + ".")
    if not detail.get("unseeded"):
        return None
    if api.startswith("tf.random.Generator"):
        return Hint("unseeded-draw", f"{api}{where} uses a tf.random.Generator made from OS entropy "
                    "(from_non_deterministic_state, which tf.random.get_global_generator() also uses): "
                    "tf.random.set_seed does not reach it.",
                    "make it with tf.random.Generator.from_seed(seed); seed the global one with "
                    "tf.random.get_global_generator().reset_from_seed(seed) before its first draw.")
    if api.startswith("tf.random."):
        return Hint("unseeded-draw", f"{api}{where} ran with neither an op seed nor a TensorFlow global seed.",
                    "pass seed= to the op, or call keras.utils.set_random_seed(seed) before it.")
    if api == "keras.random.SeedGenerator" and not any(c.seeds("python") for c in seeding_calls(comparison)):
        # Made with no seed= by a script that passes seeds call by call (else seeds-nothing spoke).
        return Hint("unseeded-draw", f"the random state of {_layer(stage)} has no seed= and draws its seed from "
                    "Python's `random`, which nothing seeds: its masks or noise differ from run to run.",
                    f"pass seed= to {_layer(stage)}, as to the other calls, or call keras.utils.set_random_seed(seed) "
                    "at the start of the script.")
    return None


def _varying_seed(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """A seeding call given a different seed in each run: computed while the script runs (the
    clock, the process id, a draw from an RNG nothing seeds), or by a library called without seed=."""
    stage = divergence.stage
    if stage.kind != "seed":
        return None
    pair = [stage.events[name] for name in divergence.runs]  # two runs of one seed
    seeds = list(dict.fromkeys(str(e.value) for e in pair))
    hidden = ""
    asked = list(dict.fromkeys(str((e.detail or {}).get("asked")) for e in pair))
    if len(seeds) < 2 and len(asked) >= 2:  # the same seed applied: --seed overrode the differing seeds asked
        seeds = asked
        hidden = (" (seedcheck's --seed overrode it, so the rest of these runs agree; without seedcheck, or with "
                  "--no-override, they would not)")
    elif len(seeds) < 2 and stage.clock:  # one clock seed, asked alike by runs started together
        seeds = asked
    elif len(seeds) < 2:
        return None
    via = _detail(stage).get("via") or ""
    where = f" at {stage.site}" if stage.site else ""
    cause = _given_varying_seeds(_detail(stage).get("api", "the seeding call"), stage, seeds)
    if via.startswith("keras/"):
        return Hint("varying-seed", cause + hidden + "; a Keras utility called without seed= draws one from an RNG "
                    "nothing seeds yet, and seeds the global RNG with it.",
                    f"pass seed= to the Keras call{where}, or call keras.utils.set_random_seed(seed) before it.")
    return Hint("varying-seed", cause + _sources(stage) + hidden + ".",
                "seed with a fixed number, or with one handed in: seedcheck puts each run's seed where {seed} "
                "stands in the script's arguments (`seedcheck run train.py --seed 1 -- --seed {seed}`), and in "
                "$SEEDCHECK_SEED.")


def _varying_draw_seed(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """A draw given a seed of its own that differs from run to run: a tf.random op's seed=, a
    stateless op's seed pair, tf.random.Generator.from_seed (a probe saw these with no hint)."""
    stage = divergence.stage
    if stage.kind != "rng":
        return None
    details = [stage.events[name].detail or {} for name in divergence.runs]  # two runs of one seed
    field = next((f for f in ("op_seed", "seed") if any(d.get(f) is not None for d in details)), None)
    if field is None:
        return None
    seeds = list(dict.fromkeys(canonical(d.get(field)) for d in details))
    if len(seeds) < 2 and not stage.clock:
        return None
    return Hint("varying-seed", _given_varying_seeds(_detail(stage).get("api", "the draw"), stage, seeds) +
                _sources(stage) + ".",
                "give it a fixed seed, or one derived from the run's seed (seedcheck puts it where {seed} stands in "
                "the script's arguments, and in $SEEDCHECK_SEED).")


def _sources(stage: Stage) -> str:
    """What may compute a varying seed, unless the hook saw it was the clock (hook/clock.py)."""
    return "" if stage.recorded("clock") else " (from the clock, the process id, or an RNG nothing seeds)"


def _given_varying_seeds(call: str, stage: Stage, seeds: list[str]) -> str:
    """`<call> at <site> (called by <library line>) is given a different seed in each run (…)`."""
    via = _detail(stage).get("via")
    head = f"{call}{f' at {stage.site}' if stage.site else ''}{f' (called by {via})' if via else ''}"
    unit = stage.recorded("clock")
    if isinstance(unit, str):
        phrase, tick = CLOCK_UNITS.get(unit, (unit, unit))
        together = f"; these runs started within the same {tick} and got the same one" if stage.clock else ""
        return (f"{head} is seeded from the clock ({', '.join(seeds[:3])}: the current time {phrase}), which gives "
                f"each run another seed{together}")
    return f"{head} is given a different seed in each run ({', '.join(seeds[:3])}): the seed is computed while the script runs"


def _varying_shuffle_seed(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """Dataset.shuffle given a seed that changes from run to run: computed while the script runs,
    most often by a Keras directory loader called without seed=, which draws one from numpy."""
    stage = divergence.stage
    if stage.kind != "shuffle" or _detail(stage).get("api") != "tf.data.Dataset.shuffle":
        return None
    pair = [stage.events[name] for name in divergence.runs]  # two runs of one seed
    seeds = [e.value.get("seed") for e in pair if isinstance(e.value, dict)]
    if None in seeds or (len(set(seeds)) < 2 and not stage.clock):
        return None
    via = _detail(stage).get("via") or ""
    where = f" at {stage.site}" if stage.site else ""
    cause = _given_varying_seeds("Dataset.shuffle", stage, [str(s) for s in dict.fromkeys(seeds)])
    fix = f"pass a fixed seed= to the call{where}"
    if via.startswith("keras/"):
        unseeded = "" if any(c.seeds("numpy") for c in seeding_calls(comparison)) else ", which nothing seeds"
        if "timeseries" in via:  # it also shuffles the windows' start positions with that seed
            cause += ("; Keras's timeseries_dataset_from_array called with shuffle=True and no seed= draws one from "
                      f"numpy's global RNG{unseeded}, and shuffles the windows' start positions with it too")
        else:
            cause += ("; Keras's dataset loaders (image_dataset_from_directory, text_dataset_from_directory, "
                      f"audio_dataset_from_directory) called without seed= draw one from numpy's global RNG{unseeded}")
        fix += ", or seed numpy before it: keras.utils.set_random_seed(seed) seeds Python, NumPy and TensorFlow"
    return Hint("varying-shuffle-seed", cause + ".", fix + ".")


def _unseeded_dataset_shuffles(comparison: Comparison) -> list[Stage]:
    """Unseeded `Dataset.shuffle` calls, and `Dataset.random` streams (sample_from_datasets')."""
    return [s for s in comparison.stages
            if s.kind == "shuffle" and _detail(s).get("api") in DATASET_DRAWS and _detail(s).get("unseeded")]


def _draw_diverged_before(comparison: Comparison, stage: Stage) -> bool:
    """Whether a recorded draw or shuffle diverged before `stage`: the better cause to give."""
    earlier = comparison.stages[: comparison.stages.index(stage)]
    return any(s.kind in ("shuffle", "rng") and s.verdict == DIVERGED for s in earlier)


def _unseeded_dataset_shuffle(comparison: Comparison, divergence: Divergence) -> Hint | None:
    stage = divergence.stage
    no_data_recorded = not any(s.kind == "data" for s in comparison.stages)  # iterated inside a tf.function
    if stage.kind != "data" and not (no_data_recorded and stage.kind in ("weights", "metrics")
                                     and not stage.key.endswith("/init")):
        return None
    pipeline = _pipeline(stage)
    feeding = [s for s in (pipeline or {}).get("shuffles") or [] if isinstance(s, dict) and s.get("unseeded")]
    unseeded = _unseeded_dataset_shuffles(comparison)
    if feeding:  # a shuffle the walk of this data's pipeline found
        site = feeding[0].get("site")
    elif pipeline and (pipeline.get("nondeterministic") or pipeline.get("parallel_random")):
        return None  # the pipeline explains it, not a shuffle that may feed other data (a validation set's)
    elif unseeded:  # the walk does not see datasets a function makes (inside an interleave): any unseeded one
        site = unseeded[0].site
    else:
        return None
    here = [s for s in unseeded if s.site == site]  # the unseeded calls on the line at fault
    streams = [s for s in here if _detail(s).get("api") == "tf.data.Dataset.random"]
    if streams:
        sampling = _detail(streams[0]).get("called_by") == "tf.data.Dataset.sample_from_datasets"
        call = "Dataset.sample_from_datasets" if sampling else "Dataset.random"
        # Shuffles on the same line (`sample_from_datasets([a.shuffle(n), b.shuffle(n)])`): a seed=
        # for the mix alone would leave them as they are.
        shuffles = sum(1 for s in here if _detail(s).get("api") == "tf.data.Dataset.shuffle")
        also = f", and the {shuffles} Dataset.shuffle call{'s' if shuffles > 1 else ''} on that line have none" \
            if shuffles else ""
        return Hint(
            "unseeded-dataset-shuffle",
            f"{call}{f' at {site}' if site else ''} draws "
            f"{'which dataset each element comes from' if sampling else 'its numbers'} with no seed{also}; no "
            "TensorFlow global seed was set when it was made: every process "
            f"{'mixes the datasets' if sampling else 'draws'} differently.",
            f"build the pipeline after keras.utils.set_random_seed(seed), or pass seed= to {call}"
            + (" and to each Dataset.shuffle." if shuffles else "."),
        )
    no_global = _no_global_seed(comparison, here[0] if here else None)
    listing = [s for s in here if _detail(s).get("called_by") == "tf.data.Dataset.list_files"]
    if listing:
        return Hint(
            "unseeded-dataset-shuffle",
            f"Dataset.list_files{f' at {site}' if site else ''} shuffles the file names (shuffle=True is its "
            f"default) with no seed, and {no_global}: every process reads the files in a different order.",
            "pass shuffle=False (the names in sorted order) or seed= to Dataset.list_files, or call "
            "keras.utils.set_random_seed(seed) before building the pipeline.",
        )
    return Hint(
        "unseeded-dataset-shuffle",
        f"Dataset.shuffle{f' at {site}' if site else ''} has no seed and {no_global}: "
        "every process shuffles the data differently.",
        "pass seed= to Dataset.shuffle, or call keras.utils.set_random_seed(seed) before building the pipeline.",
    )


def _no_global_seed(comparison: Comparison, shuffle: Stage | None) -> str:
    """What the unseeded `shuffle` lacked: no TF global seed at all, or one set only after it was
    made (too late for it: the call that came after is named)."""
    later = [c for c in seeding_calls(comparison, after=shuffle.key) if c.seeds("tf")] if shuffle is not None else []
    if later:
        return f"no TensorFlow global seed was set when it was made ({later[0].api}{_where(later[0])} comes after it)"
    return "no TensorFlow global seed is set"


def _pipeline(stage: Stage) -> dict | None:
    """The order-relevant parts of the tf.data pipeline a data stage read (hook/pipeline.py), when
    the hook could tell: its shuffles, maps and interleaves run with deterministic=False, parallel
    maps that draw random values."""
    pipeline = _detail(stage).get("pipeline") if stage.kind == "data" else None
    return pipeline if isinstance(pipeline, dict) else None


def _at(part: dict) -> str:
    """`map at train.py:19` for a part of a pipeline."""
    site = part.get("site")
    return f"{part.get('op', 'map')} at {site}" if site else str(part.get("op", "map"))


def _nondeterministic_pipeline(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """The data differ, and the pipeline they came from lets parallel work reorder them."""
    stage = divergence.stage
    pipeline = _pipeline(stage)
    if pipeline is None or _draw_diverged_before(comparison, stage):
        return None
    unordered = [p for p in pipeline.get("nondeterministic") or [] if isinstance(p, dict)]
    if unordered:
        by_options = all(p.get("by_options") for p in unordered[:2])
        return Hint(
            "nondeterministic-pipeline",
            f"the {', '.join(_at(p) for p in unordered[:2])} runs in parallel with deterministic=False ("
            + ("its own default, which the dataset's tf.data.Options().deterministic = False turns off"
               if by_options else "given to the call, or by tf.data.Options().deterministic = False")
            + "): elements come out in the order their threads finish, which changes from run to run.",
            ("drop Options().deterministic = False (or set it to True) where the options are set with "
             f"with_options{_options_line(pipeline)}, or pass deterministic=True to that call" if by_options else
             "keep deterministic=True (the default) on that call and in the dataset's Options")
            + ": the work stays parallel, only the order is kept.",
        )
    drawing = [p for p in pipeline.get("parallel_random") or [] if isinstance(p, dict)]
    # Unseeded stateful ops differ even serially: the hint holds when TensorFlow is seeded, or when
    # the map draws only through stateless ops (a Keras random layer given seed=: its SeedGenerator's
    # state, shared by the threads, is what they race on; an unseeded one differs at its own row first).
    if drawing and (any(c.seeds("tf") for c in seeding_calls(comparison))
                    or all(str(op).startswith("Stateless") for op in drawing[0].get("random") or ["?"])):
        part = drawing[0]
        return Hint(
            "parallel-random-map",
            f"the {_at(part)} {_parallel_draws(part)}, so which element gets which draw follows the thread scheduling.",
            PARALLEL_DRAWS_FIX,
        )
    return None


def _options_line(pipeline: dict) -> str:
    """` (at train.py:20)`: where the pipeline's with_options turned determinism off, when known."""
    site = pipeline.get("options_site")
    return f" (at {site})" if isinstance(site, str) and site else ""


PARALLEL_DRAWS_FIX = ("give each element its own seed, derived from its index, not from state the threads share "
                      "(tf.random.stateless_uniform, tf.image.stateless_random_* with seed=[index, 0]), or map "
                      "serially (num_parallel_calls=None); Keras random layers can go in the model instead of the map.")


def _parallel_draws(part: dict) -> str:
    """What a parallel map's draws race on. Stateless ops listed are a Keras random layer's: their
    seed comes from a SeedGenerator whose state each call advances (saying only "StatelessRandom…
    draws" and then advising stateless ops read as a contradiction)."""
    ops = [str(op) for op in part.get("random") or []]
    if ops and all(op.startswith("Stateless") for op in ops):
        return ("draws in parallel (num_parallel_calls) through stateless ops seeded from a shared seed generator "
                f"(a Keras random layer's SeedGenerator, which each call advances; {', '.join(ops)})")
    return f"draws random values ({', '.join(ops)}) in parallel (num_parallel_calls): each draw advances shared random state"


def _parallel_loader(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """fit read a PyDataset with workers: Keras keeps the batches in order, so a difference is in
    what `__getitem__` drew, and no seed fixes which worker draws for which batch. Matches the data
    order, or a draw made off the main thread (one `__getitem__` makes) that differs first."""
    stage = divergence.stage
    if stage.kind not in ("data", "shuffle", "rng"):
        return None
    if stage.kind != "data" and not _worker_threads(stage):
        return None
    loaders = (s.recorded("loader") for s in comparison.stages if s.kind == "data")
    loader = next((found for found in loaders if isinstance(found, dict)), None)
    if loader is None:
        return None
    kind, workers = loader.get("type", "PyDataset"), loader.get("workers")
    name = "PyDataset" if kind == "PyDataset" else f"PyDataset ({kind})"
    if loader.get("multiprocessing"):
        how = (f"fit reads a {name} with workers={workers} and use_multiprocessing=True: each worker process "
               "starts from a copy of the parent's numpy RNG state (fresh OS entropy where processes are "
               "spawned), and which worker builds which batch depends on scheduling, so what __getitem__ draws "
               "(np.random.*) lands in varying batches.")
    else:
        how = (f"fit reads a {name} with workers={workers}: Keras calls __getitem__ from {workers} threads at "
               "once, so a draw from an RNG they share (np.random.*, random.*, one Generator for every batch) "
               "lands in a different batch each run; no seed fixes the order in which threads draw.")
    return Hint(
        "parallel-loader",
        how,
        "make each batch's randomness a function of its index: in __getitem__, draw from "
        "np.random.default_rng([seed, index]) (add an epoch count, kept in on_epoch_end, for new draws each "
        "epoch) or from stateless TF ops seeded by the index; or pass workers=1 and use_multiprocessing=False.",
    )


def _data_without_tf_seed(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """Numpy and Python seeded, TensorFlow not: fit's shuffle of array input (tf.random.shuffle
    under the hood) and unseeded random ops in a tf.data pipeline draw from TensorFlow's seed."""
    stage = divergence.stage
    if stage.kind != "data" or not _uses(comparison, "tensorflow"):
        return None
    calls = [c for c in seeding_calls(comparison) if c.applied is not None]
    if not calls or any(c.seeds("tf") for c in calls):
        return None
    seeded = ", ".join(f"{c.api}{_where(c)}" for c in calls[:2])
    in_fit = stage.key.startswith("data/fit#") and _pipeline(stage) is None  # fit read arrays, not a tf.data pipeline
    return Hint(
        "data-without-tf-seed",
        f"the batches differ (their order or content) and nothing seeds TensorFlow (the script seeds {seeded}): "
        + ("fit(..., shuffle=True) shuffles array input with TensorFlow's random ops, and unseeded random "
           "ops in a tf.data pipeline draw from TensorFlow's seed too." if in_fit else
           "unseeded random ops in the tf.data pipeline (a shuffle, an augmentation) draw from TensorFlow's seed."),
        "call keras.utils.set_random_seed(seed) (it seeds Python, NumPy and TensorFlow), or add "
        "tf.random.set_seed(seed).",
    )


def _numpy_not_seeded(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """The data differ, nothing the hook saw explains it, and numpy's global RNG was never seeded:
    a library drawing from it for the script (scikit-learn's `train_test_split` without
    random_state) calls the RNG object's methods, which the hook cannot wrap, so no draw shows."""
    stage = divergence.stage
    if stage.kind != "data" or not _uses(comparison, "numpy") or _draw_diverged_before(comparison, stage):
        return None
    calls = seeding_calls(comparison, before=stage.key)
    seeded = [c for c in calls if c.applied is not None]
    if not seeded or any(c.seeds("numpy") for c in calls) or not _exit_detail(comparison).get("numpy_global_changed"):
        return None  # numpy seeded, or its global RNG never drawn from (TF imports numpy all the same)
    names = ", ".join(f"{c.api}{_where(c)}" for c in seeded[:2])
    return Hint(
        "numpy-not-seeded",
        f"the data differ and nothing seeds numpy's global RNG (the script seeds {names}): a library that "
        "draws from it for the script, such as scikit-learn's train_test_split, shuffle or KFold(shuffle=True) "
        "called without random_state, splits or orders the data differently in each run "
        "(seedcheck records the numpy draws the script's own lines make, not a library's).",
        "pass random_state=seed to such calls, or seed numpy: keras.utils.set_random_seed(seed) seeds Python, "
        "NumPy and TensorFlow (or add np.random.seed(seed)).",
    )


def _hash_order(comparison: Comparison, divergence: Divergence) -> Hint | None:
    if divergence.stage.kind != "data" or _draw_diverged_before(comparison, divergence.stage):
        return None
    pipeline = ("a random op (tf.image.random_*, tf.random.*) inside a tf.data `map` with num_parallel_calls, "
                "where the elements draw from the op's state in a varying order; or a map or interleave with "
                "deterministic=False; or draws from an RNG object made without a seed that seedcheck does not see made "
                "(one a library makes, or np.random.Generator over an unseeded bit generator)")
    pipeline_fix = ("in a parallel map, use stateless random ops (tf.image.stateless_random_*, "
                    "tf.random.stateless_*) with a seed per element, or map serially; give RNG objects a seed")
    if _hashseed_fixed(comparison):
        return Hint(
            "data-pipeline-order",
            f"the data order changes although every seeding call and random draw seedcheck saw agrees: likely "
            f"{pipeline}.",
            f"{pipeline_fix}; keep deterministic=True.",
        )
    late = _hashseed_set_late(comparison)
    return Hint(
        "hash-order",
        "the data order changes although every seeding call and random draw seedcheck saw agrees, and "
        "PYTHONHASHSEED is not set" + (" when Python starts (the script sets os.environ['PYTHONHASHSEED'] "
                                       "itself, too late: hashing is fixed at start-up)" if late else "") +
        ": the data may be assembled by iterating a set (or a dict built from "
        f"one) of strings, whose order follows Python's per-process hash seed; or it is {pipeline}.",
        "sort the collection before use (sorted(names)), or set PYTHONHASHSEED=0 in the environment"
        + (" the script is started in" if late else "") + f"; {pipeline_fix}.",
    )


def _hashseed_fixed(comparison: Comparison) -> bool:
    """Whether the runs started with PYTHONHASHSEED set to a number (empty or "random" fixes nothing)."""
    variables = (comparison.env_value("env") or {}).get("env")
    value = variables.get("PYTHONHASHSEED") if isinstance(variables, dict) else None
    return isinstance(value, str) and value.strip().isdigit()


def _hashseed_set_late(comparison: Comparison) -> bool:
    """Whether the script set PYTHONHASHSEED in os.environ while it ran (a seed_everything helper):
    that reaches child processes only, not the script's own hashing."""
    reference = comparison.reference
    events = reference.trace.events if reference is not None and reference.trace is not None else []
    return any(event.kind == "exit" and isinstance(event.detail, dict) and event.detail.get("hashseed_set_late")
               for event in events)


def _logged_value_only(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """Only a metric differs, every weight stage agrees: the value is not a result of the training."""
    stage = divergence.stage
    if stage.kind != "metrics":
        return None
    name = stage.key.rsplit("/", 1)[-1]
    weights = [s for s in comparison.stages if s.kind in ("weights", "init")]
    epoch = re.match(r"metrics/(fit#\d+/epoch-\d+)/val_", stage.key)
    if epoch:
        # A fit's validation value, judged by the weights up to its own epoch's checkpoint: a
        # callback reacting to it (ReduceLROnPlateau) carries its difference into later epochs.
        at = comparison.stages.index(stage)
        before = [s for s in comparison.stages[:at] if s.kind in ("weights", "init")]
        if any(s.key == f"weights/{epoch[1]}" for s in before) and all(_bitwise_equal(s) for s in before):
            later = next((s for s in comparison.stages[at + 1:] if s.kind == "weights" and not _bitwise_equal(s)), None)
            return _evaluation_data(comparison, name, later)
    if not weights or not all(_bitwise_equal(s) for s in weights):
        return None  # weights only close, or diverged but ignored: the metric may follow from them
    if name.startswith("val_") or stage.key.startswith("metrics/evaluate#"):
        return _evaluation_data(comparison, name)
    pattern = re.sub(r"epoch-\d+", "epoch-*", stage.key)
    return Hint(
        "logged-value-only",
        "every weight checkpoint is identical, yet this logged value differs: it is not computed from the "
        "training (a time, a counter, a draw in a callback).",
        f"leave it out of the check: --ignore '{pattern}' (or `ignore` in [tool.seedcheck]).",
    )


def _evaluation_data(comparison: Comparison, name: str, later: Stage | None = None) -> Hint:
    """A validation or evaluate result differs while every weight up to it agrees: not a logged value
    to ignore, but data evaluated differently (other examples, or the same in another order: a loss
    summed over batches in another order changes in its last bits). Weights that come apart after
    it (`later`) most likely follow from it, through a callback that reacts to it."""
    unseeded = _unseeded_dataset_shuffles(comparison)
    suspect = (f"; Dataset.shuffle at {unseeded[0].site} has no seed and {_no_global_seed(comparison, unseeded[0])}, "
               "which shuffles the data it feeds differently in each process") if unseeded else ""
    if later is not None:
        weights = (f"every weight checkpoint up to it is identical (they come apart later, first at "
                   f"{' '.join(stage_label(later))}, most likely through a callback that reacts to this value: "
                   "ReduceLROnPlateau, EarlyStopping, a best-model checkpoint)")
    else:
        weights = "every weight checkpoint is identical"
    return Hint(
        "evaluation-data",
        f"{weights}, yet the evaluation result {name} differs: the data it is "
        f"computed on, or their order, differ between runs (an unseeded shuffle, augmentation or noise applied "
        f"to the validation or test data, such as draws from an RNG object made without a seed){suspect}.",
        "make the evaluation data the same in each run: seed= on their shuffle (or do not shuffle them), seed "
        "any random transformation of them, or call keras.utils.set_random_seed(seed) before building them.",
    )


def _bitwise_equal(stage: Stage) -> bool:
    """Whether the runs agreed bitwise on a stage, judged by what it would be without --ignore:
    `close` and an ignored divergence are differences all the same."""
    verdict = stage.ignored_verdict if stage.verdict == IGNORED else stage.verdict
    return verdict not in (DIVERGED, CLOSE)


def _layer(stage: Stage) -> str:
    """A SeedGenerator stage's layer and the line that made it: `dropout (Dropout) made at train.py:12`;
    for Keras's global generator, the first keras.random call that drew from it."""
    detail = _detail(stage)
    if detail.get("global"):
        # made_at is the script's innermost line: the call itself, or the call of a tf.function it is in
        return "the keras.random calls" + (f" made from {detail['made_at']}" if detail.get("made_at") else "")
    layer = detail.get("layer") or detail.get("name") or "the layer"
    return f"{layer} made at {detail['made_at']}" if detail.get("made_at") else str(layer)


def _seeded_too_late(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """The model's weights (or a layer's random state) were made before the seeding call that
    would have fixed them."""
    stage = divergence.stage
    detail = _detail(stage)
    # Keras 3 draws a layer's seeds when the layer is made, whenever its weights are:
    # (what drew, when, why, where the seeding call must go).
    drew_early: tuple[str, str, str, str] | None = None
    if detail.get("api") == "keras.random.SeedGenerator" and detail.get("seed_arg") is None \
            and detail.get("python_seeded_when_made") is False:
        if detail.get("global"):  # no layer: Keras's own generator, made at the first such call (or its tracing)
            drew_early = (f"Keras's global SeedGenerator, which {_layer(stage)} draw from,", "", "",
                          f"before the first keras.random call with no seed= (or pass seed= to {_layer(stage)})")
        else:
            drew_early = (f"the random state of {_layer(stage)}", "", "",
                          "before the model's layers are made (or pass seed= to the layer)")
    elif stage.kind == "init" and detail.get("initializer_python_seeded") is False:
        drew_early = (f"the initializer of {detail.get('name', stage.key)}", " when its layer was made,",
                      " (Keras 3 initializers draw their seed when they are made, not when the weights are)",
                      "before the model's layers are made")
    seeds_python = [c for c in seeding_calls(comparison) if c.seeds("python")] if drew_early else []
    if drew_early and seeds_python:
        what, when, why, before = drew_early
        return Hint(
            "seeded-too-late",
            f"{what} drew its seed from Python's `random`{when} before the seeding call "
            f"({seeds_python[0].api}{_where(seeds_python[0])}) seeded it{why}.",
            f"seed first: move the seeding call {before}.",
        )
    if not (stage.kind == "init" or (stage.kind == "weights" and stage.key.endswith("/init"))):
        return None
    reference = comparison.reference
    if reference is None or reference.trace is None:
        return None
    keys = [event.key for event in reference.trace.events]
    # The diverged variable's own creation; for the weights at the start of fit, the first variable made.
    first_init = keys.index(stage.key) if stage.kind == "init" and stage.key in keys else \
        next((i for i, event in enumerate(reference.trace.events) if event.kind == "init"), None)
    if first_init is None:
        return None
    calls = seeding_calls(comparison)
    later = seeding_calls(comparison, after=keys[first_init])
    before = calls[:len(calls) - len(later)]
    seeds_python = [c for c in later if c.seeds("python")]
    if not seeds_python or any(c.seeds("python") for c in before):
        return None
    created = reference.trace.events[first_init].site
    return Hint(
        "seeded-too-late",
        f"the model's weights were created{f' at {created}' if created else ''} before the seeding call "
        f"({seeds_python[0].api}{_where(seeds_python[0])}): the initializers had already drawn from an "
        "unseeded state.",
        "seed first: move the seeding call before the model (and any layer) is built.",
    )


def _tf_never_seeded(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """Weights differ and nothing seeds TensorFlow, with nothing recorded before to say why: random
    ops inside a tf.function (not recorded: only eager draws are) draw from fresh state."""
    stage = divergence.stage
    if stage.kind != "weights" or not _uses(comparison, "tensorflow"):
        return None
    if any(c.seeds("tf") for c in seeding_calls(comparison)):
        return None
    return Hint(
        "tf-not-seeded",
        "nothing seeds TensorFlow (no tf.random.set_seed or keras.utils.set_random_seed): its random ops "
        "given no seed= (tf.random.*, inside a tf.function too, where seedcheck does not see each draw) start "
        "from fresh state in every process. So does an RNG object made without a seed that seedcheck does not "
        "see made (one a library makes, or np.random.Generator over an unseeded bit generator).",
        "call keras.utils.set_random_seed(seed) at the start of the script, or pass seed= to each random op; "
        "give any RNG object the script makes a seed.",
    )


def _no_seed_here(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """No global seeding call, in a script that passes seed= to some calls (so seeds-nothing kept
    quiet) and no rule named a call: the stage that diverged was given no seed of its own."""
    if _seeds_globally(comparison) or not _passes_own_seeds(comparison):
        return None
    what = {"init": "initializer of this variable", "rng": "random state"}.get(divergence.stage.kind, "randomness here")
    return Hint(
        "seeds-nothing",
        f"nothing seeds the script's RNGs as a whole, and the {what} has no seed= of its own, unlike other "
        "calls of the script: it starts from fresh random state in every run.",
        "pass seed= here too (an initializer: kernel_initializer=keras.initializers.GlorotUniform(seed=...)), or "
        "call keras.utils.set_random_seed(seed) at the start of the script.",
    )


def _output_only(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """An --artifact file differs and nothing seedcheck recorded explains it."""
    if divergence.stage.kind != "output":
        return None
    calls = seeding_calls(comparison)
    names = {**RNG_NAMES, "tf": "TensorFlow"}
    imported = {"python": True, "numpy": _uses(comparison, "numpy"), "tf": _uses(comparison, "tensorflow")}
    unseeded = [names[rng] for rng in ("python", "numpy", "tf")
                if imported[rng] and not any(c.seeds(rng) for c in calls)]
    return Hint(
        "output-only",
        "the file differs, and every stage before it agrees: what it depends on is something seedcheck does not "
        "record one by one (later draws from an RNG object, draws a library makes for the script, the time, a "
        "directory listing)"
        + (f"; nothing seeds {', '.join(unseeded)}." if unseeded else "."),
        "seed every RNG the script draws from (keras.utils.set_random_seed(seed) seeds Python, NumPy and "
        "TensorFlow), and check what else the file takes in (times, unsorted listings); `seedcheck vary` tells "
        "which part of the environment changes it.",
    )


def _other_options(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """The two runs that differ were taken with other options of `seedcheck run` (a baseline
    without --max-steps, a check with it): that explains the difference before any rule about the
    script does."""
    pair = [run for run in comparison.runs if run.name in divergence.runs]
    # Script arguments only for a stage one run did not reach (a baseline with --epochs 3, a check
    # with 2): spelled otherwise (`--epochs=2`) or naming another machine's data path, they differ
    # between runs that compute alike, and would be blamed for a difference in the data themselves.
    differing = settings_differ(pair, arguments=divergence.stage.verdict == MISSING)
    if not differing:
        return None
    # Runs of one seed taken the same way that differ there too: the options are not (all of) the
    # cause. Runs of other seeds differ by their seed.
    values = divergence.stage.values
    alike: dict[str, set[str]] = {}
    for run in comparison.runs:
        if run.name in values and run.trace is not None:
            alike.setdefault(repr((run.seed, sorted(run_settings(run).items()))), set()).add(canonical(values[run.name]))
    if any(len(seen) > 1 for seen in alike.values()):
        return None
    return Hint(
        "other-options",
        f"the runs that differ were not taken with the same options of seedcheck run or script arguments: "
        f"{'; '.join(differing)}. "
        "A run stopped by --max-steps trains less (fewer batches, other weights); without the override, the "
        "script's own seeds apply instead of the run's; --force-seed seeds everything first; other arguments "
        "make the script do other work.",
        "take the runs and the baseline with the same options and script arguments (record the baseline again "
        "with those the check uses), then check again.",
    )


def _changed_since_baseline(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """The check's runs reproduce each other where they differ from the baseline: not run-to-run
    nondeterminism, which the pattern rules below would guess, but what changed between the
    baseline's recording and this check (the code, the arguments, the data, a library, the
    machine). After the rules that read a seed varying in the recorded values (a clock-derived
    seed repeats for runs started in one window, and differs from the baseline's)."""
    return _against_baseline(comparison, divergence, single=False)


def _changed_since_baseline_in_one_run(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """One run of the check differs from the baseline, and a file its call sites name changed since:
    the likelier cause, once no rule about the script's seeding matched (one run cannot show that
    the check reproduces itself)."""
    return _against_baseline(comparison, divergence, single=True)


def _against_baseline(comparison: Comparison, divergence: Divergence, single: bool) -> Hint | None:
    stage = divergence.stage
    named = {run.name: run for run in comparison.runs if run.trace is not None}
    pair = [named[name] for name in divergence.runs if name in named]
    if len(pair) != 2 or pair[0].baseline == pair[1].baseline:
        return None
    seed = pair[0].seed
    checked = [run for run in named.values() if not run.baseline and run.seed == seed]
    baseline = [run for run in named.values() if run.baseline and run.seed == seed]

    def side(runs: list[RunResult]) -> set[str]:  # what each side holds there: one value, or absence
        return {canonical(stage.values[run.name]) if run.name in stage.values else "<missing>" for run in runs}

    if len(side(checked)) != 1 or len(side(baseline)) != 1 or side(checked) == side(baseline):
        return None  # the runs of this check differ among themselves too: another rule says why
    files = changed_sources(checked, baseline)
    if (len(checked) == 1) != single or (single and (not files or stage.kind == "metrics")):
        return None  # a metric that differs while every weight before it agrees: a logged value (the rule below)
    what = [d.replace(" (", " differ (" if d.startswith("the script's") else " differs (", 1)
            for d in settings_differ([*baseline, *checked])]  # the script's arguments too, here
    if files:
        listed = ", ".join(files[:4]) + (", …" if len(files) > 4 else "")
        moved = "" if stage.verdict != MISSING else \
            " (calls added, removed or reordered there: a stage of one version is not in the other)"
        what.append(f"{listed} {'has' if len(files) == 1 else 'have'} changed{moved}")
    env = [d.label for d in comparison.env_differences if d.field not in COSMETIC_ENV_FIELDS
           and len({canonical(v) for name, v in d.values.items() if name in divergence.runs}) > 1]
    if env:
        what.append(f"the environment differs ({', '.join(env[:4])})")
    if files is None:
        what.append("whether the code changed is not known: the baseline's traces (or the check's) hold no digests "
                    "of the files (an older seedcheck recorded them, or a run ended before its exit)")
    elif not what:
        what.append("no file the runs' call sites name changed, so the data, a file the script reads, a library "
                    "version or code outside those files")
    base_names = ", ".join(run.name for run in baseline[:3])
    if single:
        cause = (f"{checked[0].name} differs from the baseline's {base_names}, and since the baseline was recorded: "
                 f"{'; '.join(what)}: that change is the likely cause (one run of the check does not show whether it "
                 "reproduces itself: --repeats 2 does).")
    else:
        cause = (f"this check's runs ({', '.join(run.name for run in checked[:3])}) reproduce each other here, and "
                 f"differ from the baseline's ({base_names}): the difference comes from a change since the baseline "
                 f"was recorded, not from run to run: {'; '.join(what)}.")
    all_baseline = [run for run in comparison.runs if run.baseline]
    base_path = next((run.trace_path for run in all_baseline if run.trace_path is not None), None)
    like = pair[0] if not pair[0].baseline else pair[1]
    record = rerecord_command(all_baseline, base_path.parent if base_path is not None else Path("BASELINE"), like)
    files_named = [name.split(" (now ")[-1].rstrip(")") for name in files or []]
    return Hint(
        "changed-since-baseline",
        cause,
        f"if the change is intended (a new model, other data, an upgrade), record the baseline again as the check "
        f"is taken: {record}; if not, undo what changed since"
        + (f" (git diff {' '.join(files_named[:4])})" if files_named else "") + ".",
    )


def _resumed_from_shared_file(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """One of the two runs read a checkpoint, weights or a dataset an earlier run of the check wrote
    (hook/files.py's note): it started from that run's state (a BackupAndRestore backup left
    behind), which explains a difference before anything the script does."""
    checked = [run for run in comparison.runs if run.trace is not None and not run.baseline]
    for run in comparison.runs:
        if run.name not in divergence.runs or run.trace is None or (checked and run is checked[0]):
            continue  # the check's first run has no earlier run to resume from (its own download, say)
        events = run.trace.events
        at = next((index for index, event in enumerate(events) if event.key == divergence.stage.key), len(events))
        note = next((event for event in events[:at] if event.kind == "note"
                     and event.key.startswith("note/shared-file@") and isinstance(event.detail, dict)), None)
        if note is None:
            continue  # none read before the stage that differs: not what made it differ
        call = f"{note.detail.get('api') or 'reading'}({note.detail.get('path')!r})"
        return Hint(
            "resumed-from-shared-file",
            f"{run.name} read a file written since this check began, outside its own directory: {call}"
            f"{f' at {note.site}' if note.site else ''}. An earlier run (or one beside it) wrote it, so {run.name} "
            "started from that run's state (a BackupAndRestore backup, a checkpoint or weights left behind) "
            "instead of from the script's own start, and the runs are not independent.",
            "write such files under $SEEDCHECK_RUN_DIR (each run's own directory; {run_dir} in the script's "
            "arguments), or remove them before each run.",
        )
    return None


def _stopped_at_other_epochs(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """A fit epoch some runs reached and others did not, every stage before it agreeing: fit stopped
    early in some runs, on a decision that is not reproducible (a time budget, a callback's own
    draw)."""
    stage = divergence.stage
    if not re.match(r"(data|weights|metrics)/fit#\d+/epoch-\d+", stage.key):
        return None
    lacking = [run.name for run in comparison.runs if run.trace is not None and run.name not in stage.values]
    reached = ", ".join(list(stage.values)[:3])
    left_behind = _reached_by_first_runs_only(comparison, stage)
    return Hint(
        "stopped-at-other-epochs",
        f"fit trained longer in {reached} than in {', '.join(lacking[:3])}, and every stage before agrees: fit was "
        "stopped early in some runs (model.stop_training set by a callback: EarlyStopping, TerminateOnNaN, a time "
        "budget), on a decision that does not repeat: the wall clock, or a value the runs do not reproduce"
        + ("; or, as the first run trained longest, a file it left behind (a marker, a checkpoint, a backup) "
           "shortened the later runs" if left_behind else "") + ".",
        "stop on something that repeats: a fixed number of epochs, or EarlyStopping on a value the runs reproduce; "
        "not on elapsed time" + ("; write files a run leaves under $SEEDCHECK_RUN_DIR" if left_behind else "") + ".",
    )


RULES: tuple[Callable[[Comparison, Divergence], Hint | None], ...] = (
    _other_options,  # first: a difference of options explains any stage it reaches
    _resumed_from_shared_file,  # then a run that started from another's state: nothing after that is its own
    _unseeded_rng_object,
    _seeds_nothing,
    _varying_seed,
    _varying_draw_seed,
    _changed_since_baseline,  # runs that agree with each other, not with the baseline: after seeds that vary
    _seeded_too_late,
    _keras3_initializers,
    _parallel_loader,
    _threaded_draws,
    _unseeded_draw,
    _varying_shuffle_seed,
    _unseeded_dataset_shuffle,
    _nondeterministic_pipeline,
    _data_without_tf_seed,
    _numpy_not_seeded,
    _changed_since_baseline_in_one_run,  # once no rule about the script's seeding matched; before the guesses
    _hash_order,
    _logged_value_only,
    # Before the training rule: with no TF seed, a random op in the step (a custom layer's
    # tf.random.normal) is the likelier cause, and that rule's fix, enable_op_determinism(), makes
    # such an op raise ("Random ops require a seed to be set when determinism is enabled").
    _tf_never_seeded,
    _training_nondeterminism,
    _output_only,
    _no_seed_here,
)


def explain(comparison: Comparison) -> Comparison:
    """Attach the first matching rule's cause and fix, and the warnings, to the comparison."""
    divergence = comparison.first_divergence
    if divergence is not None:
        verdict = divergence.stage.verdict
        rules = RULES if verdict == DIVERGED else MISSING_RULES if verdict == MISSING and divergence.cause is None else ()
        hint = next((found for found in (rule(comparison, divergence) for rule in rules) if found is not None), None)
        if hint is not None:  # the first rule that matches, in order
            divergence.cause, divergence.fix, divergence.rule = hint.cause, hint.fix, hint.rule
    comparison.warnings.extend(_seed_ignored(comparison))
    comparison.warnings.extend(_no_result_recorded(comparison))
    comparison.warnings.extend(_parallel_draws_agreed(comparison))
    return comparison


def _reached_by_first_runs_only(comparison: Comparison, stage: Stage) -> bool:
    """Whether, in every seed, the runs that reached the stage all came before those that did not
    (and some did not). Never with a baseline: its runs are not earlier runs of this check."""
    runs = [run for run in comparison.runs if run.trace is not None]
    if any(run.baseline for run in runs):
        return False
    by_seed: dict[Any, list[bool]] = {}
    for run in runs:
        by_seed.setdefault(run.seed, []).append(run.name in stage.values)
    reached = [flags for flags in by_seed.values() if len(flags) > 1]
    return bool(reached) and all(flags[0] and flags == sorted(flags, reverse=True) for flags in reached) \
        and not all(all(flags) for flags in reached)


def _skipped_by_later_runs(comparison: Comparison, divergence: Divergence) -> Hint | None:
    """A stage each seed's first run reached and its later runs did not: most often the first run
    left a file behind (preprocessed data, a cache, a "done" marker) and the later ones took the
    "already there" branch."""
    stage = divergence.stage
    if not _reached_by_first_runs_only(comparison, stage):
        return None
    later = [run.name for run in comparison.runs if run.trace is not None and run.name not in stage.values]
    return Hint(
        "skipped-by-later-runs",
        f"the first run of the seed ran this code and the later ones ({', '.join(later[:3])}) did not. Later runs "
        "that skip what the first one ran have usually found something it left behind, a file written outside its "
        "own directory (preprocessed data, a cache, a saved model, a marker) that sends them down the 'already "
        "there' branch to reuse the first run's output; else the branch follows a random draw or the clock.",
        "write such files under $SEEDCHECK_RUN_DIR (each run's own directory), or remove them before each run, "
        "so that each run makes its own and seedcheck compares them; seed whatever else the branch depends on.",
    )


# For a first divergence that is a stage some runs did not reach (RULES speak of values).
MISSING_RULES: tuple[Callable[[Comparison, Divergence], Hint | None], ...] = (
    _other_options, _resumed_from_shared_file, _changed_since_baseline, _stopped_at_other_epochs,
    _skipped_by_later_runs, _changed_since_baseline_in_one_run,
)


def _parallel_draws_agreed(comparison: Comparison) -> list[str]:
    """Data that agreed although a parallel map in its pipeline draws from shared random state: the
    order of the draws follows the thread scheduling, so runs taken side by side on a quiet machine
    can agree and the next ones not (helper A saw 2 and then 4 runs pass with --jobs 2, 4 differ
    serially). A pass there is luck, and says so."""
    if not comparison.repeats_compared or any(s.kind == "data" and s.verdict == DIVERGED for s in comparison.stages):
        return []  # data that differed: the first divergence's hint names the map
    for stage in comparison.stages:
        pipeline = _pipeline(stage)
        if stage.verdict not in (REPRODUCIBLE, CLOSE) or pipeline is None:
            continue
        drawing = [part for part in pipeline.get("parallel_random") or [] if isinstance(part, dict)]
        if drawing:
            return [f"the {_at(drawing[0])} {_parallel_draws(drawing[0])}: these runs agreed on "
                    f"{' '.join(stage_label(stage))}, but which element gets which draw follows the thread "
                    f"scheduling, so other runs (a busier machine, other cores) can differ. To make it hold: "
                    f"{PARALLEL_DRAWS_FIX}"]
    return []


def _no_result_recorded(comparison: Comparison) -> list[str]:
    """A script whose result seedcheck cannot see (no Keras model, no tf.data, no --artifact) is
    only checked on its seeding calls and draws: a pass then says little."""
    results = ("weights", "init", "data", "metrics", "output")
    if not comparison.stages or any(stage.kind in results for stage in comparison.stages):
        return []
    if not any(run.ok for run in comparison.runs):
        return []  # the runs crashed before recording anything: their failure is the story
    return ["no result of the script was recorded (no Keras model or tf.data pass): only its seeding calls and "
            "draws were compared. Name the file it writes with --artifact PATH to compare its output too."]


def _seed_ignored(comparison: Comparison) -> list[str]:
    """Weights or data the same for every seed: the script does not use the seed it is given."""
    # Whole-model weights only: one variable may rightly ignore the seed (a zero-initialized bias),
    # and so may the script's own variables (a step counter).
    insensitive: list[Stage] = [s for s in comparison.stages if s.verdict == SEED_INSENSITIVE and s.kind == "weights"
                                and s.key != "weights/final/script-variables"]
    if not insensitive:
        return []
    # Hard-coded: not overridden (as the trace says; an older one, by the seed it got being the one
    # asked for, which a run whose seed is the script's own literal also gives).
    hardcoded = [c for c in seeding_calls(comparison) if c.applied is not None
                 and (not c.overridden if c.overridden is not None else c.asked == c.applied)]
    where = ", ".join(f"{c.api}({c.asked!r}){_where(c)}" for c in hardcoded[:3])
    because = f"; the script seeds with hard-coded values: {where}" if hardcoded else ""
    reference = comparison.reference
    overridden = bool(reference and reference.trace and reference.trace.header.get("override"))
    reseeds = [c for c in hardcoded if c.via and c.via.startswith(RESEEDING_LIBRARIES)]
    if overridden and reseeds and len(reseeds) == len(hardcoded):
        # The script's own seeding calls got each run's seed; a Keras utility reseeded after them.
        return [
            f"{len(insensitive)} weight stages are the same for every seed (first: {insensitive[0].key}) although "
            f"seedcheck gave each seed to the script's seeding calls: {where} reseeds with a fixed seed after them, "
            "so whatever is made after it starts the same in every run. Give that call a seed derived from the run's "
            "seed ($SEEDCHECK_SEED, or {seed} in the script's arguments), or make the model before it."
        ]
    if overridden and not hardcoded:
        fixed = sorted({f"{_layer(s)} with seed={_detail(s).get('seed_arg')!r}"
                        for s in comparison.stages if s.kind == "rng" and _detail(s).get("api") == "keras.random.SeedGenerator"
                        and _detail(s).get("seed_arg") is not None})
        named = f"; among them {', '.join(fixed[:3])}" if fixed else ""
        return [
            f"{len(insensitive)} weight stages are the same for every seed (first: {insensitive[0].key}) although "
            "seedcheck gave each seed to the script's seeding calls: fixed seeds passed to layers, initializers or "
            f"ops (seed=42) decide them, or the weights are loaded from a file{named}. Derive those seeds from the "
            "run's seed ($SEEDCHECK_SEED, or {seed} in the script's arguments) if the seed is meant to vary them."
        ]
    return [
        f"{len(insensitive)} weight stages are the same for every seed (first: {insensitive[0].key}): "
        f"the script ignores the seed it is given{because}. Read the seed from $SEEDCHECK_SEED or an "
        "argument" + (", or let seedcheck override the seeding calls (it does unless --no-override is given or the "
                      "script's arguments take {seed})." if not overridden else ".")
    ]
