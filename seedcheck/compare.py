"""Align runs' events by stage key and give each stage a verdict; find the first divergence.

A pure function of the runs (their traces and how their processes ended): no I/O, no printing.
The reporters render its `Comparison`; `hints` explains its first divergence.
"""

from __future__ import annotations

import json
import math
import posixpath
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from seedcheck.trace import CAPTURE_CHANGES, CAPTURE_VERSION, CLOCK_UNITS, Event, Trace

REPRODUCIBLE = "reproducible"
DIVERGED = "diverged"
SEED_INSENSITIVE = "seed-insensitive"
MISSING = "missing"
UNCHECKED = "unchecked"  # no seed had two runs to compare (--repeats 1)
CLOSE = "close"  # bitwise different, equal within --rtol/--atol: a pass
IGNORED = "ignored"  # left out of the verdict by --ignore
DIFFERS = "differs"  # an environment stage whose values differ: a fact that may explain, not a failure

# Dataset calls whose recorded value is the call (seed, buffer), not what they draw.
DATASET_DRAWS = ("tf.data.Dataset.shuffle", "tf.data.Dataset.random")
# Kinds that describe the run rather than what it computed: shown, never a verdict.
INFORMATIONAL_KINDS = ("note",)
# Kinds whose stage is shown with a verdict but never fails the check (the environment).
CONTEXT_KINDS = ("env",)
# Kinds whose values are numbers or arrays that a tolerance may call close.
TOLERANT_KINDS = ("weights", "init", "metrics")

EXIT_REPRODUCIBLE, EXIT_DIVERGED, EXIT_USAGE, EXIT_RUN_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a terminated process


@dataclass
class RunResult:
    """One run as the runner saw it. `trace` is None when the run left no readable trace."""

    name: str
    seed: int | None
    status: str  # ok | failed | timeout | interrupted | stopped (by --fail-fast) | skipped
    exit_code: int | None = None
    duration_s: float | None = None
    trace_path: Path | None = None
    trace: Trace | None = None
    stderr_tail: list[str] = field(default_factory=list)
    problem: str | None = None  # why the run failed, in a few words
    baseline: bool = False  # a saved run the others are held to (--baseline)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class Stage:
    key: str
    kind: str
    site: str | None
    verdict: str
    values: dict[str, Any]  # run name -> value (absent runs are not in it)
    events: dict[str, Event] = field(repr=False, default_factory=dict)
    distinct: int = 1  # distinct values within the worst seed
    max_delta: float | None = None  # numbers: the largest spread within one seed
    seed_sensitive: bool = False  # reproducible within each seed, different between seeds
    deviation: float | None = None  # close: the largest |Δ| seen in norms, samples or values
    ignored_verdict: str | None = None  # ignored: the verdict it would have had
    # Missing, not failed, and why: "--max-steps" (an --artifact every run skipped as --max-steps
    # stopped it first), or how the runs that lack it ended early ("timed out", "failed", "interrupted").
    not_reached: str | None = None
    other_capture: bool = False  # absent only from traces another seedcheck recorded (capture version)
    other_every: bool = False  # a step or loop-pass snapshot absent only from runs taken with another --every
    superseded: bool = False  # diverged initial values that no later weight carries (_mark_superseded)
    clock: str | None = None  # diverged though the values agree: the seed is the current time, in this unit

    def recorded(self, name: str) -> Any:
        """Field `name` of the stage's detail, from the first run that recorded it (None if none did)."""
        for event in self.events.values():
            value = event.detail.get(name) if isinstance(event.detail, dict) else None
            if value is not None:
                return value
        return None

    @property
    def caller(self) -> str | None:
        """For a draw a library made with no user code on the stack (Keras shuffling a PyDataset's
        batches): the library's `package/module.py:line`, as any run recorded it."""
        caller = self.recorded("caller")
        return caller if isinstance(caller, str) and caller else None

    @property
    def distinct_in_row(self) -> int:
        """Distinct values across every run that reached the stage: what a row shows. `distinct` is
        the worst seed's count, which decides the verdict but reads short of a row of four seeds."""
        return len({canonical(value) for value in self.values.values()})

    @property
    def unseeded_call(self) -> bool:
        """An unseeded `Dataset.shuffle` or `Dataset.random` (neither its own seed nor a global one).
        Its value is the call's arguments, which repeat, while what it draws need not; other draws
        record the values drawn, whose differences show."""
        return self.recorded("api") in DATASET_DRAWS and self.recorded("unseeded") is True

    @property
    def where(self) -> str | None:
        """The user's call site, else the library's (`caller`)."""
        return self.site or self.caller

    @property
    def fails(self) -> bool:
        """Whether this stage makes the check fail."""
        return self.verdict in (DIVERGED, MISSING) and self.kind not in CONTEXT_KINDS and not self.not_reached \
            and not self.superseded


@dataclass(frozen=True)
class Tolerance:
    """numpy.isclose's rule, |a - b| <= atol + rtol * |b|; zero for both means bitwise."""

    rtol: float = 0.0
    atol: float = 0.0

    @property
    def active(self) -> bool:
        return self.rtol > 0 or self.atol > 0

    def close(self, a: float, b: float) -> bool:
        return abs(a - b) <= self.atol + self.rtol * abs(b)


BITWISE = Tolerance()


@dataclass
class EnvDifference:
    """One environment field whose value differs between runs (`None`: not recorded in that run)."""

    field: str  # python, cpus, packages.tensorflow-cpu, env.TF_NUM_INTRAOP_THREADS, tensorflow.devices
    values: dict[str, Any]

    @property
    def label(self) -> str:
        """`env.TF_NUM_INTRAOP_THREADS` -> `$TF_NUM_INTRAOP_THREADS`, `packages.keras` -> `keras version`."""
        if self.field.startswith("env."):
            return "$" + self.field[4:]
        if self.field.startswith("packages."):
            return f"{self.field[9:]} version"
        return self.field


@dataclass
class Divergence:
    stage: Stage
    explanation: str
    runs: tuple[str, str]  # the reference run and one that differs from it
    cause: str | None = None
    fix: str | None = None
    rule: str | None = None


@dataclass
class Comparison:
    runs: list[RunResult]
    stages: list[Stage]
    first_divergence: Divergence | None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # the hook's own problems, from `note` events
    interrupted: bool = False
    terminated: bool = False  # the interruption was SIGTERM (a CI runner cancelling the job)
    tolerance: Tolerance = BITWISE
    ignore: tuple[str, ...] = ()
    env_differences: list[EnvDifference] = field(default_factory=list)
    jobs: int = 1  # runs at a time
    fail_fast: bool = False
    from_saved: bool = False  # compare/report of saved traces: no --repeats to suggest
    variations: Any = None  # `seedcheck vary`: (the control pair's outcome, each variation's), see vary.py

    @property
    def baseline_runs(self) -> list[RunResult]:
        return [run for run in self.runs if run.baseline]

    @property
    def failed_runs(self) -> list[RunResult]:
        return [run for run in self.runs if run.status not in ("ok", "skipped", "stopped")]

    @property
    def verdict(self) -> str:
        if self.failed_runs:
            return "failed"
        if any(stage.fails for stage in self.stages):
            return "diverged"
        return "reproducible"

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_TERMINATED if self.terminated else EXIT_INTERRUPTED
        return {"failed": EXIT_RUN_FAILED, "diverged": EXIT_DIVERGED}.get(self.verdict, EXIT_REPRODUCIBLE)

    @property
    def repeats_compared(self) -> bool:
        """Whether some seed has two runs with traces (a baseline's included): runs were held to each
        other, not only seeds to seeds."""
        seeds = [run.seed for run in self.runs if run.trace is not None]
        return any(seeds.count(seed) > 1 for seed in set(seeds))

    @property
    def seeds(self) -> list[int | None]:
        return list(dict.fromkeys(run.seed for run in self.runs))

    @property
    def reference(self) -> RunResult | None:
        traced = [run for run in self.runs if run.trace is not None]
        return next((run for run in traced if run.ok), traced[0] if traced else None)

    def env_value(self, key: str) -> dict[str, Any]:
        """The reference run's environment event `key` as an object; {} where it has none (or a
        hand-edited trace holds something else there)."""
        reference = self.reference
        event = reference.trace.find(key) if reference and reference.trace else None
        return event.value if event is not None and isinstance(event.value, dict) else {}


def compare(runs: list[RunResult], interrupted: bool = False, tolerance: Tolerance = BITWISE,
            ignore: tuple[str, ...] = (), ignore_origin: str = "--ignore") -> Comparison:
    """Judge every stage. `tolerance` turns near-equal numbers and arrays into `close`; a stage
    whose key matches an `ignore` pattern (fnmatch, e.g. `metrics/*/time`) is judged but left out
    of the verdict (`ignore_origin`: how a warning about a pattern names where it was set). Runs are keyed by name: two runs of one name would be one column, so that is
    refused (`saved.name_runs` makes names unique)."""
    names = [run.name for run in runs]
    if len(set(names)) < len(names):
        raise ValueError(f"runs share a name: {sorted({n for n in names if names.count(n) > 1})}")
    traced = [run for run in runs if run.trace is not None]
    _align_sites(traced)
    realigned = _align_lines(traced)
    by_run = {run.name: _index(run.trace) for run in traced}  # type: ignore[arg-type]
    stages = []
    for key in _stage_order(traced):
        events = {run.name: by_run[run.name][key] for run in traced if key in by_run[run.name]}
        first = next(iter(events.values()))
        if first.kind in INFORMATIONAL_KINDS:
            continue
        stage = _judge(key, first, events, traced, tolerance)
        if any(fnmatchcase(key, pattern) for pattern in ignore):
            stage.ignored_verdict, stage.verdict = stage.verdict, IGNORED
        stages.append(stage)
    superseded = _mark_superseded(stages)
    comparison = Comparison(runs=runs, stages=stages, first_divergence=None, interrupted=interrupted,
                            tolerance=tolerance, ignore=tuple(ignore))
    comparison.warnings.extend(realigned)
    if superseded:
        names = list(dict.fromkeys(stage.recorded("name") or stage.key for stage in superseded))
        comparison.warnings.append(
            f"{len(superseded)} initial value(s) ({', '.join(names[:3])}{', …' if len(names) > 3 else ''}) differ "
            "between runs of a seed, but every weight recorded after them agrees, those very variables' included: "
            "their values were replaced before training (weights loaded, a checkpoint restored), so they do not "
            "fail the check")
    comparison.notes = _hook_notes(traced)
    comparison.warnings.extend(_hook_notes(traced, warnings=True))
    ended_early = [run.name for run in traced if _exit_written_by_runner(run.trace)]  # type: ignore[arg-type]
    if ended_early:
        comparison.warnings.append(
            f"{', '.join(ended_early)}: the script ended its own process (os._exit?) before seedcheck's hook "
            "could finish, so what it records at exit (final weights, draws past the per-site cap) is missing")
    comparison.warnings.extend(_not_reached_warnings(stages))
    other_capture = [stage for stage in stages if stage.other_capture]
    if other_capture:
        versions = " and ".join(str(v) for v in sorted({capture_version(run) for run in traced}))
        comparison.warnings.append(
            f"{len(other_capture)} stage(s) ({other_capture[0].key}{', …' if len(other_capture) > 1 else ''}) are "
            f"recorded by the seedcheck of only some of these traces (capture versions {versions}): compared where "
            "present; record the baseline again with this seedcheck to hold them to it")
    other_every = [stage for stage in stages if stage.other_every]
    if other_every:
        taken = " and ".join(sorted({"the default" if _every_of(run) is None else f"--every {_every_of(run)}"
                                     for run in traced}))
        comparison.warnings.append(
            f"{len(other_every)} weight snapshot(s) ({other_every[0].key}{', …' if len(other_every) > 1 else ''}) "
            f"exist only in some runs: the runs were taken with different snapshot intervals ({taken}); "
            "compared where present. Take the runs (and the baseline) with the same --every to compare them all")
    differing = settings_differ(traced)
    if differing:
        comparison.warnings.append(
            f"the runs were not taken with the same options or script arguments: {'; '.join(differing)}. What "
            "differs because of that is not the script's doing: take the runs (and the baseline) with the same "
            "options and arguments")
    comparison.env_differences = _env_differences(stages, traced)
    comparison.first_divergence = _first_divergence(comparison)
    comparison.warnings.extend(f"{ignore_origin} {pattern!r} matches no stage (stage keys are listed by "
                               "`seedcheck show` and in the JSON report)"
                               for pattern in ignore if not any(fnmatchcase(s.key, pattern) for s in stages))
    return comparison


# Verdicts of a later weights stage that show the diverged initial values did not carry on.
_AGREEING = (REPRODUCIBLE, CLOSE, SEED_INSENSITIVE)


def _mark_superseded(stages: list[Stage]) -> list[Stage]:
    """Diverged init stages whose values no result carries: every weights stage after them agrees,
    and in every run one of them holds that very variable (its `uid`, not only its name: a second
    model built alike shares the names). Fine-tuning loads weights over the layers' fresh random
    values (`load_weights`, `load_model`, a restored checkpoint): a difference there reaches
    nothing. Without a later snapshot of the variable itself there is no evidence (a model trained
    and dropped before any snapshot), and the stage fails as before."""
    marked = []
    for index, stage in enumerate(stages):
        if stage.kind != "init" or stage.verdict != DIVERGED:
            continue
        later = [s for s in stages[index + 1:] if s.kind == "weights"]
        if later and all(s.verdict in _AGREEING for s in later) and \
                all(_snapshotted_later(event, later, run) for run, event in stage.events.items()):
            stage.superseded = True
            marked.append(stage)
    return marked


def _snapshotted_later(init: Event, later: list[Stage], run: str) -> bool:
    """Whether a later weights stage of `run` holds the variable whose initial value `init` is."""
    uid = (init.detail or {}).get("uid")
    return uid is not None and any(
        variable.get("uid") == uid for stage in later if run in stage.events
        for variable in _variables(stage.events[run]).values())


def _exit_written_by_runner(trace: Trace) -> bool:
    exit_event = trace.find("exit")
    return exit_event is not None and isinstance(exit_event.detail, dict) and exit_event.detail.get("written_by") == "runner"


# A stage key with a call site: `<kind>/<api>@<file>:<line><rest>` (`rest`: `#n`, `/pass-n`).
_SITE_IN_KEY = re.compile(r"^(?P<head>[^@]*@)(?P<path>[^:]+)(?P<tail>:\d+.*)$", re.DOTALL)
SITES_FROM_PROJECT_ROOT = 7  # the capture version since which a key's file is named as now (trace.CAPTURE_VERSION)


def _align_sites(runs: list[RunResult]) -> None:
    """A stage's key holds its call site's file, and older hooks named it otherwise: up to capture 5
    a file outside the working directory by its absolute path, up to 6 a file under it from the
    working directory, not the project's root (`model.py` from `lib/`, now `lib/model.py`). An older
    trace's key is read as the newer traces' key for the same file (one path ends with the other),
    when exactly one newer key matches it and none is the older key as it is, so an older baseline
    is not failed for the renaming. Changes the events in place (they are the comparison's own
    reading)."""
    older = [run for run in runs if capture_version(run) < SITES_FROM_PROJECT_ROOT]
    newer = [run for run in runs if capture_version(run) >= SITES_FROM_PROJECT_ROOT]
    if not older or not newer:
        return
    paths_by_site: dict[tuple[str, str], list[str]] = {}
    for run in newer:
        for event in run.trace.events:  # type: ignore[union-attr]
            match = _SITE_IN_KEY.match(event.key)
            if match:
                paths = paths_by_site.setdefault((match["head"], match["tail"]), [])
                if match["path"] not in paths:
                    paths.append(match["path"])
    for run in older:
        events = run.trace.events  # type: ignore[union-attr]
        held = {event.key for event in events}
        renames: dict[str, tuple[str, str, str]] = {}  # old key -> (new key, old path, new path)
        for event in events:
            match = _SITE_IN_KEY.match(event.key)
            if not match:
                continue
            path, newer_paths = match["path"], paths_by_site.get((match["head"], match["tail"]), [])
            if path in newer_paths:
                continue
            same_file = [other for other in newer_paths if path.endswith("/" + other) or other.endswith("/" + path)]
            if len(same_file) == 1:
                renames[event.key] = (match["head"] + same_file[0] + match["tail"], path, same_file[0])
        targets = Counter(new_key for new_key, _, _ in renames.values())
        for event in events:
            if event.key not in renames:
                continue
            new_key, path, new_path = renames[event.key]
            # Not onto a key this trace holds already, nor one two of its keys would share: that is
            # another file of the same name (noise.py and lib/noise.py), not this one renamed.
            if new_key in held or targets[new_key] > 1:
                continue
            event.key = new_key
            if isinstance(event.site, str) and event.site.startswith(path):
                event.site = new_path + event.site[len(path):]


def source_digests(run: RunResult) -> dict[str, str]:
    """The digest of each file the run's call sites name, as its hook read them at the exit
    (recorder.source_digests); {} for a trace without them (an older seedcheck, a run killed
    before its exit)."""
    exit_event = run.trace.find("exit") if run.trace is not None else None
    sources = exit_event.detail.get("sources") if exit_event is not None and isinstance(exit_event.detail, dict) else None
    return {str(k): str(v) for k, v in sources.items()} if isinstance(sources, dict) else {}


def changed_sources(runs: list[RunResult], others: list[RunResult]) -> list[str] | None:
    """Files whose source `runs` and `others` both name and read otherwise (code edited between
    them), and files renamed between them (`_toyproblem.py (now _toy.py)`: one digest under two
    names); None when a run of either side recorded no digests (an older seedcheck's trace, a run
    killed before its exit), so whether anything changed is not known."""
    def versions(group: list[RunResult]) -> dict[str, set[str]] | None:
        held: dict[str, set[str]] = {}
        for run in group:
            digests = source_digests(run)
            if not digests:
                return None
            for path, digest in digests.items():
                held.setdefault(path, set()).add(digest)
        return held

    mine, theirs = versions(runs), versions(others)
    if mine is None or theirs is None:
        return None
    changed = sorted(path for path in mine.keys() & theirs.keys() if mine[path] != theirs[path])
    for old in sorted(theirs.keys() - mine.keys()):
        new = next((path for path in sorted(mine.keys() - theirs.keys()) if mine[path] == theirs[old]), None)
        if new is not None:
            changed.append(f"{old} (now {new})")
    return changed


def _site_lines(runs: list[RunResult], path: str) -> dict[int, frozenset[str]]:
    """Each line of `path` that a stage's key or call site names in `runs`, with what was recorded
    there: a keyed site's head (`rng/keras.random.SeedGenerator@`, `data/loop@`), else the key of
    an event whose site it is (`seed/keras.utils.set_random_seed#1`, `init/dense/kernel#1`)."""
    lines: dict[int, set[str]] = {}
    for run in runs:
        for event in run.trace.events:  # type: ignore[union-attr]
            if event.kind in INFORMATIONAL_KINDS:
                continue
            match = _SITE_IN_KEY.match(event.key)
            if match:
                if match["path"] == path:
                    lines.setdefault(int(re.match(r":(\d+)", match["tail"])[1]), set()).add(match["head"])  # type: ignore[index]
            elif isinstance(event.site, str) and event.site.startswith(path + ":") and event.site[len(path) + 1:].isdigit():
                lines.setdefault(int(event.site[len(path) + 1:]), set()).add(event.key)
    return {line: frozenset(heads) for line, heads in lines.items()}


def _align_lines(runs: list[RunResult]) -> list[str]:
    """A key names its call site's line, so a line added above a draw in a baseline's script (a
    comment, an import) would make every stage below it `missing` against the baseline. Where a
    file's source differs between runs (its digest: recorder.source_digests), the older version's
    lines are read as the checked version's when the same records come from its lines in the same
    order (each i-th line records what the i-th line does): the code moved, no call was added or
    dropped. Never between runs of one version (the same digest), where another line is another
    code path, and not when the records differ: those stages stay missing. The checked version is
    that of the newest run that is not a baseline's. Changes the events in place; says what was
    read so."""
    digests = {run.name: source_digests(run) for run in runs}
    known = [run for run in runs if digests[run.name]]
    checked = [run for run in known if not run.baseline] or known
    if len(known) < 2 or not checked:
        return []
    newest = max(checked, key=lambda run: str(run.trace.header.get("started", "")))  # type: ignore[union-attr]
    said = []
    for path, digest in digests[newest.name].items():
        target_runs = [run for run in known if digests[run.name].get(path) == digest]
        other_versions: dict[str, list[RunResult]] = {}
        for run in known:
            if digests[run.name].get(path) not in (None, digest):
                other_versions.setdefault(digests[run.name][path], []).append(run)
        if not other_versions:
            continue
        target = _site_lines(target_runs, path)
        for group in other_versions.values():
            older = _site_lines(group, path)
            if sorted(older) == sorted(target) or len(older) != len(target) or \
                    any(older[a] != target[b] for a, b in zip(sorted(older), sorted(target))):
                continue  # nothing moved, or other calls: compared as they are
            moved = {a: b for a, b in zip(sorted(older), sorted(target)) if a != b}
            for run in group:
                for event in run.trace.events:  # type: ignore[union-attr]
                    match = _SITE_IN_KEY.match(event.key)
                    if match and match["path"] == path:
                        line = int(re.match(r":(\d+)", match["tail"])[1])  # type: ignore[index]
                        event.key = f"{match['head']}{path}:{moved.get(line, line)}{match['tail'][len(str(line)) + 1:]}"
                    site = event.site if isinstance(event.site, str) else ""
                    if site.startswith(path + ":") and site[len(path) + 1:].isdigit():
                        line = int(site[len(path) + 1:])
                        event.site = f"{path}:{moved.get(line, line)}"
            shown = ", ".join(f"{a}→{b}" for a, b in list(moved.items())[:4]) + (", …" if len(moved) > 4 else "")
            runs_named = ", ".join(run.name for run in group[:3]) + (", …" if len(group) > 3 else "")
            said.append(f"{path} changed since {runs_named} ran; its lines that recorded something record the same "
                         f"kinds of thing in the same order, so they are read as this version's (line {shown}) and "
                         "their stages compared there")
    return said


def _index(trace: Trace) -> dict[str, Event]:
    index: dict[str, Event] = {}
    for event in trace.events:
        index.setdefault(event.key, event)
    return index


def _stage_order(runs: list[RunResult]) -> list[str]:
    """The reference run's event order, with stages only other runs reached placed after the
    stage that preceded them there; `exit` last, though the runner appends the --artifact files
    after it (they are taken once the process has ended)."""
    order: list[str] = []
    placed: set[str] = set()
    ordered_runs = sorted(runs, key=lambda run: not run.ok)
    for run in ordered_runs:
        previous: str | None = None
        for event in run.trace.events:  # type: ignore[union-attr]
            if event.key not in placed:
                position = order.index(previous) + 1 if previous is not None else 0
                order.insert(position, event.key)
                placed.add(event.key)
            previous = event.key
    if "exit" in placed:
        order.remove("exit")
        order.append("exit")
    return order


def canonical(value: Any) -> str:
    """The comparable form of a value: equal values, equal strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _judge(key: str, first: Event, events: dict[str, Event], runs: list[RunResult],
           tolerance: Tolerance = BITWISE) -> Stage:
    excused: set[str] = set()  # runs that may lack the stage: stopped by --fail-fast, or by --max-steps first
    if first.kind == "output":
        unwritten = [name for name, event in events.items() if _not_written(event)]
        stopped_first = {run.name for run in runs if run.name in unwritten and stopped_by_max_steps(run)}
        if len(stopped_first) == len(events):
            return Stage(key=key, kind=first.kind, site=first.site, verdict=MISSING, not_reached="--max-steps",
                         values={name: event.value for name, event in events.items()}, events=events)
        written_by_none = len(unwritten) == len(events)
        if written_by_none or any(run.ok for run in runs if run.name in unwritten and run.name not in stopped_first):
            # An --artifact a run that finished did not write: no file to compare, whatever the others did.
            return Stage(key=key, kind=first.kind, site=first.site, verdict=MISSING,
                         values={name: event.value for name, event in events.items()}, events=events)
        # Not written by runs that crashed: absent from them, as any stage a crashed run never reached.
        events = {name: event for name, event in events.items() if name not in unwritten}
        first = next(iter(events.values()))
        excused = stopped_first
    values = {name: event.value for name, event in events.items()}
    site = next((event.site for event in events.values() if event.site), None)
    stage = Stage(key=key, kind=first.kind, site=site, verdict=REPRODUCIBLE, values=values, events=events)
    # The runs that reached the stage are compared even when others did not (a crashed run must
    # not hide a divergence between two that finished); a difference wins over an absence.
    names_by_seed: dict[Any, list[str]] = {}
    for run in runs:
        if run.name in values:
            names_by_seed.setdefault(run.seed, []).append(run.name)
    clock = _clock_seeded(events, names_by_seed)
    if first.kind == "seed" and (clock or _asked_varies(events, names_by_seed)):
        # --seed overrode a seed the script computes as it runs (from the clock): the runs agree only
        # because of the override; without seedcheck they would not. The row shows what was asked.
        values = stage.values = {name: (event.detail or {}).get("asked") for name, event in events.items()}
    groups = {seed: [values[name] for name in names] for seed, names in names_by_seed.items()}
    distinct_per_seed = {seed: len({canonical(v) for v in group}) for seed, group in groups.items()}
    stage.distinct = max(distinct_per_seed.values())
    if clock and stage.distinct == 1:
        # Parallel runs that started in the same second were given the same clock seed; runs a
        # second apart, or the script run again later, are not (hook/clock.py).
        stage.verdict, stage.clock = DIVERGED, clock
        return stage
    if first.kind == "metrics":  # a spread means something for a loss, not for a seed or an exit code
        stage.max_delta = _max_spread(groups.values())
    if first.kind in CONTEXT_KINDS and len({canonical(v) for v in values.values()}) > 1:
        stage.verdict = DIFFERS
        return stage

    if stage.distinct > 1:
        stage.verdict = DIVERGED
        if tolerance.active and first.kind in TOLERANT_KINDS:
            deviation = _deviation_within(tolerance, [[events[name] for name in names]
                                                      for names in names_by_seed.values()])
            if deviation is not None:
                stage.verdict, stage.deviation = CLOSE, deviation
        if stage.verdict == DIVERGED:
            return stage
    # A run --fail-fast stopped early lacks later stages by design: only the others must have it.
    lacking = [run for run in runs if run.name not in events and run.status != "stopped" and run.name not in excused]
    if lacking:
        having = {capture_version(run) for run in runs if run.name in events}
        missing_from = {capture_version(run) for run in lacking}
        if having.isdisjoint(missing_from) and _changed_between(key, having | missing_from):
            stage.other_capture = True  # what one seedcheck records and another does not (a baseline's)
        elif _every_differs(key, [run for run in runs if run.name in events], lacking):
            stage.other_every = True  # a baseline taken with --every 40, a run with the default
        else:
            stage.verdict = MISSING
            if not any(run.ok for run in lacking):
                # Only runs that ended early lack it (their failure fails the check): not reached.
                stage.not_reached = "/".join(dict.fromkeys(_ENDED_EARLY.get(run.status, run.status) for run in lacking))
            return stage
    if stage.verdict == CLOSE:
        return stage
    if all(len(group) < 2 for group in groups.values()):
        stage.verdict = UNCHECKED
    distinct_overall = len({canonical(v) for v in values.values()})
    if len(groups) >= 2 and stage.distinct == 1:
        if distinct_overall > 1:
            stage.seed_sensitive = True
        elif first.kind not in ("env", "exit") and not _constant_initial_value(first):
            # The same whatever the seed: a seed that never reaches what it should. Not said of what
            # no seed is meant to change: the environment, the exit code, a zero or ones initializer.
            stage.verdict = SEED_INSENSITIVE
    return stage


def _constant_initial_value(event: Event) -> bool:
    """An initial value every element of which is the same (a zeros bias, a ones scale): no seed
    can change it. Read off the recorded sample (a norm of 0 for zeros, or two or more equal values)."""
    detail = event.detail if event.kind == "init" and isinstance(event.detail, dict) else {}
    sample = detail.get("sample")
    if detail.get("norm") == 0:
        return True
    return isinstance(sample, list) and len(sample) >= 2 and len({canonical(value) for value in sample}) == 1


def _asked_varies(events: dict[str, Event], names_by_seed: dict[Any, list[str]]) -> bool:
    """Whether runs of one seed had a seeding call overridden that asked for different seeds."""
    details = {name: event.detail or {} for name, event in events.items()}
    if not any(detail.get("overridden") for detail in details.values()):
        return False
    return any(len({canonical(details[name].get("asked")) for name in names}) > 1 for names in names_by_seed.values())


def _clock_seeded(events: dict[str, Event], names_by_seed: dict[Any, list[str]]) -> str | None:
    """The unit of a seed read from the clock (hook/clock.py) in every run of a seed that has two
    or more, else None: one run alone is unchecked, and a seed one run read from the clock and
    the next from a file it left is for the rules on shared files."""
    for names in names_by_seed.values():
        units = {(events[name].detail or {}).get("clock") for name in names}
        if len(names) >= 2 and None not in units:
            return min(map(str, units))
    return None


def clock_seed(event: Event) -> Any:
    """The seed a seeding call asked for, or a draw or shuffle was given (what hook/clock.py checks)."""
    detail = event.detail or {}
    return next((detail[name] for name in ("asked", "seed", "op_seed") if name in detail), event.value)


def _changed_between(key: str, versions: set[int]) -> bool:
    """Whether a capture version after the oldest of `versions`, up to the newest, began or
    stopped recording stages like `key` (trace.CAPTURE_CHANGES)."""
    low, high = min(versions), max(versions)
    return any(fnmatchcase(key, pattern) for version, patterns in CAPTURE_CHANGES.items()
               if low < version <= high for pattern in patterns)


# Snapshots whose steps follow --every: a loop pass's weights are skipped when a step snapshot was
# just taken at its last step (steps.py), so they follow it too.
EVERY_STAGES = ("weights/step-*", "weights/loop@*")


def _every_differs(key: str, having: list[RunResult], lacking: list[RunResult]) -> bool:
    """Whether `key` follows --every and the runs that lack it were all taken with another --every
    than those that have it (as their trace headers say: a trace that does not say is no evidence)."""
    if not any(fnmatchcase(key, pattern) for pattern in EVERY_STAGES):
        return False
    settings = [{_every_of(run) for run in group} for group in (having, lacking)]
    return "unknown" not in settings[0] | settings[1] and settings[0].isdisjoint(settings[1])


def _every_of(run: RunResult) -> Any:
    header = run.trace.header if run.trace is not None else {}
    return header.get("every", "unknown")


def capture_version(run: RunResult) -> int:
    """What the hook of the seedcheck that wrote the run's trace recorded (trace.CAPTURE_VERSION)."""
    version = run.trace.header.get("capture", 1) if run.trace is not None else CAPTURE_VERSION
    return version if isinstance(version, int) and not isinstance(version, bool) else 1


def _max_spread(groups: Any) -> float | None:
    spread = None
    for group in groups:
        numbers = [v for v in group if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(numbers) != len(group) or len(numbers) < 2:
            continue
        finite = [float(v) for v in numbers if is_finite_number(v)]
        if finite:
            width = max(finite) - min(finite)
            spread = width if spread is None else max(spread, width)
    return spread


# -- tolerance --------------------------------------------------------------------------------------

def _deviation_within(tolerance: Tolerance, groups: list[list[Event]]) -> float | None:
    """The largest |Δ| between each run and the first of its seed, if every difference lies within
    the tolerance; None if one does not (or cannot be measured: a missing norm or sample)."""
    largest = 0.0
    for group in groups:
        reference = group[0]
        for other in group[1:]:
            deviation = event_deviation(reference, other, tolerance)
            if deviation is None:
                return None
            largest = max(largest, deviation)
    return largest


def event_deviation(reference: Event, other: Event, tolerance: Tolerance) -> float | None:
    if reference.kind == "metrics":
        return _numbers_deviation([reference.value], [other.value], tolerance)
    if canonical(reference.value) == canonical(other.value):
        return 0.0
    variables_a, variables_b = _variables(reference), _variables(other)
    if not variables_a or variables_a.keys() != variables_b.keys():
        return None
    largest = 0.0
    for name, var_a in variables_a.items():
        var_b = variables_b[name]
        if var_a.get("fp") == var_b.get("fp"):
            continue
        if var_a.get("shape") != var_b.get("shape") or var_a.get("dtype") != var_b.get("dtype"):
            return None
        sample_a, sample_b = var_a.get("sample"), var_b.get("sample")
        if not isinstance(sample_a, list) or not isinstance(sample_b, list) or len(sample_a) != len(sample_b):
            return None
        deviation = _numbers_deviation([var_b.get("norm"), *sample_b], [var_a.get("norm"), *sample_a], tolerance)
        if deviation is None:
            return None
        largest = max(largest, deviation)
    return largest


def tolerance_breach(reference: Event, other: Event, tolerance: Tolerance) -> str | None:
    """Where two recorded values break --rtol/--atol the most (by how far past what is allowed):
    the variable, its |Δ| and what the tolerance allows there. A value near zero gets almost nothing
    from --rtol alone: --atol is named then."""
    if reference.kind == "metrics":
        pairs = [(None, other.value, reference.value)]
    else:
        variables_a, variables_b = _variables(reference), _variables(other)
        pairs = [(name, b, a) for name, var_a in variables_a.items() if (var_b := variables_b.get(name))
                 and var_a.get("fp") != var_b.get("fp") and isinstance(var_a.get("sample"), list)
                 and isinstance(var_b.get("sample"), list)
                 for a, b in zip([var_a.get("norm"), *var_a["sample"]], [var_b.get("norm"), *var_b["sample"]])]
    worst: tuple[float, str | None, float, float] | None = None
    for name, value, base in pairs:
        if not (is_finite_number(value) and is_finite_number(base)) or tolerance.close(value, base):
            continue
        excess = abs(value - base) - (tolerance.atol + tolerance.rtol * abs(base))
        if worst is None or excess > worst[0]:
            worst = (excess, name, abs(value - base), base)
    if worst is None:
        return None
    _, name, delta, base = worst
    allowed = tolerance.atol + tolerance.rtol * abs(base)
    text = f"{name + ': ' if name else ''}|Δ| {delta:.2g} at a value of {base:.2g}, where the tolerance allows {allowed:.2g}"
    if not tolerance.atol and (atol := _atol_holding(delta)):  # values near 0 (a bias) get little from --rtol
        text += f" (--atol {atol} would hold it)"
    return text


def _atol_holding(delta: float) -> str | None:
    """The smallest power of ten, as the user would type it, that is at least `delta`; none for an
    infinite or subnormal |Δ|, or past the largest float."""
    if not sys.float_info.min <= delta < math.inf:
        return None
    exponent = math.ceil(math.log10(delta))
    while exponent <= sys.float_info.max_10_exp and float(f"1e{exponent}") < delta:  # log10 rounds
        exponent += 1
    return f"{float(f'1e{exponent}'):g}" if exponent <= sys.float_info.max_10_exp else None


def _numbers_deviation(values: list[Any], references: list[Any], tolerance: Tolerance) -> float | None:
    largest = 0.0
    for value, reference in zip(values, references):
        if canonical(value) == canonical(reference):  # equal, or both "NaN"
            continue
        if not (is_finite_number(value) and is_finite_number(reference)) or not tolerance.close(value, reference):
            return None
        largest = max(largest, abs(value - reference))
    return largest


def is_finite_number(value: Any) -> bool:
    """A finite number a float can hold: a hand-edited trace's 10**400 is a value, not a number."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


# -- the environment ------------------------------------------------------------------------------

def _env_differences(stages: list[Stage], runs: list[RunResult]) -> list[EnvDifference]:
    """Field by field, what differs between the runs' environment events."""
    differences = []
    for stage in stages:
        if stage.kind not in CONTEXT_KINDS or stage.verdict not in (DIFFERS, MISSING):
            continue
        prefix = stage.key.partition("/")[2]
        # Only runs that recorded the stage: one that stopped before TF was used has no TF settings,
        # which is not another machine's.
        flat = {run.name: _flatten(stage.values[run.name], prefix) for run in runs if run.name in stage.values}
        fields = list(dict.fromkeys(name for fields in flat.values() for name in fields))
        for name in fields:
            values = {run: fields_of_run.get(name) for run, fields_of_run in flat.items()}
            if len({canonical(v) for v in values.values()}) > 1:
                differences.append(EnvDifference(name, values))
    return differences


def _flatten(value: Any, prefix: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {prefix or "value": value}
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if name == "tensorflow.tensorflow":
            name = "tensorflow.version"
        if isinstance(item, dict) and key in ("packages", "env"):
            flat.update(_flatten(item, name))
        else:
            flat[name] = item
    return flat


def _hook_notes(runs: list[RunResult], warnings: bool = False) -> list[str]:
    """What the hook could not record (its notes), or, with `warnings`, what it saw that may make a
    verdict wrong (notes marked `warning` in their detail: a file cache runs share), once each."""
    notes: dict[str, None] = {}
    for run in runs:
        for event in run.trace.events:  # type: ignore[union-attr]
            if event.kind != "note":
                continue
            is_warning = isinstance(event.detail, dict) and bool(event.detail.get("warning"))
            if is_warning != warnings:
                continue
            notes[str(event.value) if warnings else f"{event.key.split('#')[0].removeprefix('note/')}: {event.value}"] = None
    return list(notes)


# -- the first divergence -------------------------------------------------------------------------

def _first_divergence(comparison: Comparison) -> Divergence | None:
    failed = {run.name for run in comparison.failed_runs}
    for stage in comparison.stages:
        if not stage.fails:
            continue
        if stage.verdict == DIVERGED:
            if failed and _left_at_exit(stage) and not _diverged_among(stage, comparison.runs, exclude=failed):
                continue  # what a crashed run left at its exit differs, as it stopped early: its failure says why
            divergence = _explain(stage, comparison.runs)
            if comparison.tolerance.active and stage.kind in TOLERANT_KINDS:
                breach = tolerance_breach(*(stage.events[name] for name in divergence.runs), comparison.tolerance)
                if breach:
                    divergence.explanation += f"; beyond the tolerance: {breach}"
            return divergence
        unwritten = unwritten_by(stage)
        if unwritten:
            if all(name in failed for name in unwritten):
                continue  # a run that crashed wrote no file: its failure says so
            written = [name for name in stage.values if name not in unwritten]
            path = stage.key.removeprefix("output/")
            text = f"{path} was not written by {', '.join(unwritten)}" + (
                f" (only by {', '.join(written)})" if written else ": no run wrote it") + _left_over(stage, unwritten) \
                + _written_beside(stage, unwritten, path)
            pair = (written[0], unwritten[0]) if written else (unwritten[0], unwritten[-1])
            return Divergence(stage, text, pair,
                              cause="the run did not write the file named by --artifact (no file there when its "
                                    "process ended, or only one left unchanged from before it)",
                              fix="check the path: a relative one starts from the directory seedcheck was run in "
                                  "(whatever directory the script moves to), with {seed} and {run_dir} replaced "
                                  "per run", rule="artifact-not-written")
        if stage.verdict == MISSING:
            absent = [run.name for run in comparison.runs if run.trace is not None and run.name not in stage.values]
            if any(name not in failed for name in absent):
                present = next(iter(stage.values))
                return Divergence(stage, f"reached by {', '.join(stage.values)} but not by {', '.join(absent)} "
                                         "(the runs took different code paths)", (present, absent[0]))
    return None


def _left_at_exit(stage: Stage) -> bool:
    """A stage a crashed run records at its end: its exit code, final weights and --artifact files
    differ from a finished run's because it stopped, not because the two computed differently."""
    return stage.key == "exit" or stage.key.startswith(("weights/final/", "output/"))


def _diverged_among(stage: Stage, runs: list[RunResult], exclude: set[str]) -> bool:
    """Whether runs of one seed differ on this stage once the `exclude`d runs are left out."""
    by_seed: dict[Any, set[str]] = {}
    for run in runs:
        if run.name in stage.values and run.name not in exclude:
            by_seed.setdefault(run.seed, set()).add(canonical(stage.values[run.name]))
    return any(len(values) > 1 for values in by_seed.values())


def _left_over(stage: Stage, unwritten: list[str]) -> str:
    """Where a file from before the run is at the path, unchanged: said, since the user will find a file there."""
    stale = [name for name in unwritten if (stage.events[name].detail or {}).get("unchanged")]
    return f"; the file there is older than {'the run' if len(unwritten) == 1 else 'those runs'}, left unchanged" \
        if stale else ""


def _written_beside(stage: Stage, unwritten: list[str], path: str) -> str:
    """Files those runs wrote in that directory instead (artifacts.written_beside), named as the path is."""
    names = dict.fromkeys(name for run in unwritten
                          for name in (stage.events[run].detail or {}).get("written_beside", ()) if isinstance(name, str))
    if not names:
        return ""
    shown = ", ".join(posixpath.join(posixpath.dirname(path), name) for name in names)
    return f"; {'it' if len(unwritten) == 1 else 'they'} wrote {shown} there"


def unwritten_by(stage: Stage) -> list[str]:
    """The runs that did not write an --artifact file (an `output` event marked missing)."""
    if stage.kind != "output":
        return []
    return [name for name, event in stage.events.items() if _not_written(event)]


def _not_written(event: Event) -> bool:
    return isinstance(event.detail, dict) and bool(event.detail.get("missing"))


def run_settings(run: RunResult) -> dict[str, Any]:
    """What the options of `seedcheck run` that change what a script computes did in this run, as
    its trace says: where --max-steps stopped training (its exit event; None: it stopped nothing,
    given or not), the seed override (--no-override) and --force-seed (its header). "unknown"
    where the trace does not say (no exit event: a crash, a kill): no evidence of another setting."""
    trace = run.trace
    if trace is None:
        return {}
    detail = exit_detail(run)
    stopped_at = (detail.get("steps") if detail.get("stopped") else None) if detail is not None else "unknown"
    return {"--max-steps": stopped_at,
            "--no-override": not trace.header.get("override", True),
            "--force-seed": bool(trace.header.get("force_seed")),
            "the script's arguments": _script_arguments(trace.header.get("command"))}


def _script_arguments(command: Any) -> Any:
    """The arguments after the script (or `-m module`) in a trace header's command; "unknown" for
    a header without one."""
    if not isinstance(command, list) or not command:
        return "unknown"
    arguments = command[2:] if command[0] == "-m" else command[1:]
    return " ".join(str(argument) for argument in arguments)


def settings_differ(runs: list[RunResult], arguments: bool = True) -> list[str]:
    """Each setting (run_settings) the runs were not all taken with, as `--max-steps (stopped after 5
    steps in s1#1; not stopped in base:s1#1)`: runs taken another way differ for that reason."""
    described = []
    traced = [run for run in runs if run.trace is not None]
    settings = {run.name: run_settings(run) for run in traced}
    for option in ("--max-steps", "--no-override", "--force-seed", *(["the script's arguments"] if arguments else [])):
        # Arguments are compared within a seed: {seed} in them gives each seed its own.
        groups = [[run for run in traced if run.seed == seed] for seed in dict.fromkeys(run.seed for run in traced)] \
            if option == "the script's arguments" else [traced]
        values: dict[Any, list[str]] = {}
        for group in groups:
            values = {}
            for run in group:
                if settings[run.name].get(option, "unknown") != "unknown":
                    values.setdefault(settings[run.name][option], []).append(run.name)
            if len(values) > 1:
                break
        if len(values) > 1:
            shown = "; ".join(f"{_setting_text(option, value)} in {', '.join(names[:3])}{', …' if len(names) > 3 else ''}"
                              for value, names in values.items())
            described.append(f"{option} ({shown})")
    return described


def _setting_text(option: str, value: Any) -> str:
    if option == "the script's arguments":
        return f"'{value}'" if value else "none"
    if option == "--max-steps":
        return "not stopped" if value is None else f"stopped after {value} steps"
    return "given" if value else "not given"


def exit_detail(run: RunResult) -> dict[str, Any] | None:
    """The detail of the run's `exit` event (steps, --max-steps, what the script imported), or None
    where the trace has no exit event (a crash, a kill) or a hand-edited one holds no object."""
    exit_event = run.trace.find("exit") if run.trace is not None else None
    return exit_event.detail if exit_event is not None and isinstance(exit_event.detail, dict) else None


def stopped_by_max_steps(run: RunResult) -> bool:
    """Whether --max-steps ended the run's training, and with it the script (its exit event says so)."""
    return (exit_detail(run) or {}).get("stopped") is True


# How a run that lacks a stage ended, as a stage's `not_reached` says it.
_ENDED_EARLY = {"failed": "run failed", "timeout": "timed out", "interrupted": "interrupted"}


def _not_reached_warnings(stages: list[Stage]) -> list[str]:
    """An --artifact no run wrote because --max-steps stopped every run first: said, not failed."""
    return [f"--artifact {stage.key.removeprefix('output/')}: not written, as --max-steps stopped each run's "
            "training, and with it the script, first; not counted (a check without --max-steps compares it)."
            for stage in stages if stage.not_reached == "--max-steps"]


def differing_pair(stage: Stage, runs: list[RunResult]) -> tuple[str, str]:
    """The first run of the first diverged seed, and the first run of that seed that differs from it."""
    for seed in dict.fromkeys(run.seed for run in runs):
        names = [run.name for run in runs if run.seed == seed and run.name in stage.values]
        for other in names[1:]:
            if canonical(stage.values[other]) != canonical(stage.values[names[0]]):
                return names[0], other
    for seed in dict.fromkeys(run.seed for run in runs):  # alike, yet diverged (a clock seed): one seed's two runs
        names = [run.name for run in runs if run.seed == seed and run.name in stage.values]
        if len(names) >= 2:
            return names[0], names[1]
    names = list(stage.values)
    return names[0], names[-1]


def _explain(stage: Stage, runs: list[RunResult]) -> Divergence:
    a, b = differing_pair(stage, runs)
    first, second = stage.events[a], stage.events[b]
    if stage.kind in ("weights", "init"):
        text = _explain_arrays(first, second, name_single=stage.kind != "init")  # an init key names its variable
    elif stage.kind == "data":
        text = _explain_data(first, second)
    elif stage.max_delta is not None:
        text = f"{_fmt(first.value)} in {a}, {_fmt(second.value)} in {b} (max Δ {stage.max_delta:.3g})"
    elif stage.clock:
        phrase, tick = CLOCK_UNITS.get(stage.clock, (stage.clock, stage.clock))
        text = (f"seed {_fmt(clock_seed(first))} in {a} and {b}: the current time {phrase}, alike only because these "
                f"runs started within the same {tick}")
    elif stage.kind == "seed" and stage.values[a] != first.value:  # the seeds asked for, which --seed overrode
        text = f"asked {_fmt(stage.values[a])} in {a}, {_fmt(stage.values[b])} in {b} (--seed gave both {_fmt(first.value)})"
    else:
        text = f"{_fmt(first.value)} in {a}, {_fmt(second.value)} in {b}"
    return Divergence(stage, text, (a, b))


def variable_differences(first: Event, second: Event) -> list[tuple[str, float | None]]:
    """(variable, max |Δ| over the recorded sample) for each variable whose fingerprint differs."""
    variables_a = _variables(first)
    variables_b = _variables(second)
    differences = []
    for name, var_a in variables_a.items():
        var_b = variables_b.get(name)
        if var_b is None or var_a.get("fp") == var_b.get("fp"):
            continue
        sample_a, sample_b = var_a.get("sample"), var_b.get("sample")
        delta = None
        if isinstance(sample_a, list) and isinstance(sample_b, list) and len(sample_a) == len(sample_b) and sample_a:
            pairs = [(x, y) for x, y in zip(sample_a, sample_b) if is_finite_number(x) and is_finite_number(y)]
            if pairs:
                delta = max(abs(x - y) for x, y in pairs)
        differences.append((name, delta))
    return differences


def _variables(event: Event) -> dict[str, dict[str, Any]]:
    detail = event.detail or {}
    if "variables" in detail:
        return {v["name"]: v for v in detail["variables"] if isinstance(v, dict) and "name" in v}
    if "name" in detail:  # an init event holds one variable
        return {detail["name"]: detail}
    return {}


def _explain_arrays(first: Event, second: Event, name_single: bool) -> str:
    differences = variable_differences(first, second)
    if not differences:
        return "the fingerprints differ"
    names = [name for name, _ in differences]
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    total = len(_variables(first))
    deltas = [d for _, d in differences if d is not None]
    size = f" (max |Δ| ≈ {max(deltas):.3g} in the sampled values)" if deltas else ""
    if total > 1:
        return f"{len(names)} of {total} variables differ: {shown}{size}"
    return f"{shown} differs{size}" if name_single else f"the values differ{size}"


def _explain_data(first: Event, second: Event) -> str:
    batches_a = (first.detail or {}).get("first_batches") or []
    batches_b = (second.detail or {}).get("first_batches") or []
    count_a = (first.detail or {}).get("batches")
    count_b = (second.detail or {}).get("batches")
    if count_a != count_b:
        return f"{count_a} batches in one run, {count_b} in the other"
    for index, (x, y) in enumerate(zip(batches_a, batches_b), start=1):
        if x != y:
            return f"the batches differ from batch {index} of {count_a} on (a different order or content)"
    return f"the first {len(batches_a)} batches agree; a later one of the {count_a} differs"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.8g}"
    if isinstance(value, str) and len(value) > 12:
        return value[:8] + "…"
    return json.dumps(value) if not isinstance(value, str) else value
