"""Saved runs read back: trace files and `--save` directories, for `compare` and `--baseline`.

A `--save` directory holds one trace per run and `seedcheck-run.json`, the runner's account of how
each run ended (status, exit code, duration). A trace given alone, or copied from another machine
without its manifest, still tells how its run ended through its `exit` event; a trace that stops
before one is a run that did not finish.
"""

from __future__ import annotations

import json
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from seedcheck.compare import RunResult, is_finite_number
from seedcheck.runner import MANIFEST, stderr_tail
from seedcheck.trace import Trace, TraceError, has_trace_header, read_trace

MANIFEST_FORMAT = 1
BASELINE_PREFIX = "base"


class SavedRunsError(Exception):
    """Saved runs cannot be used; the message is one line naming the path and the fix."""


@dataclass
class Ending:
    """How a saved check ended, as its manifest records it: `report` then tells the same story."""

    interrupted: bool = False
    terminated: bool = False
    stopped_early: bool = False  # --fail-fast stopped it at a divergence
    jobs: int = 1  # runs at a time (--jobs): the report says the runs shared the cores

    @classmethod
    def of(cls, manifest: dict[str, Any] | None) -> Ending:
        """From the manifest's own fields, or (older manifests) from its runs' statuses."""
        if manifest is None:
            return cls()
        entries = manifest["runs"]
        interrupted = manifest.get("interrupted")
        if not isinstance(interrupted, bool):
            interrupted = any(entry.get("status") == "interrupted" for entry in entries)
        terminated = manifest.get("terminated")
        if not isinstance(terminated, bool):
            terminated = interrupted and any(entry.get("problem") == "terminated (SIGTERM)" for entry in entries)
        stopped = manifest.get("stopped_early")
        if not isinstance(stopped, bool):
            stopped = not interrupted and any(entry.get("status") in ("stopped", "skipped") for entry in entries)
        jobs = manifest.get("jobs")
        jobs = jobs if isinstance(jobs, int) and not isinstance(jobs, bool) and jobs >= 1 else 1
        return cls(interrupted, terminated and interrupted, stopped, jobs)


@dataclass
class Source:
    """The runs read from one command-line argument (a trace file or a save directory)."""

    path: Path
    runs: list[RunResult]
    baseline: bool = False
    targets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader noticed: said in the report
    ended: Ending = field(default_factory=Ending)
    variations: list[str] | None = None  # a saved `seedcheck vary`'s, from its manifest


def path_kind(path: Path) -> str | None:
    """'dir', 'file', or None when nothing is there. `Path.exists()` raises for a name too long or
    a parent that cannot be searched: that is a bad path given by the user, said in one line."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        raise SavedRunsError(f"{path}: {err.strerror or err}") from None
    return "dir" if stat.S_ISDIR(mode) else "file"


def load(path_text: str, baseline: bool = False) -> Source:
    path = Path(path_text)
    kind = path_kind(path)
    if kind is None:
        raise SavedRunsError(f"no such trace or directory: {path_text}")
    notes: list[str] = []
    manifest = None
    if kind == "dir":
        runs, manifest = _load_directory(path, notes)
    else:
        runs = [_from_trace(_read(path), manifest_entry=None)]
    for run in runs:
        run.baseline = baseline
    targets = list(dict.fromkeys(str(run.trace.header.get("target")) for run in runs
                                 if run.trace is not None and run.trace.header.get("target")))
    names = manifest.get("variations") if manifest is not None else None
    variations = names if isinstance(names, list) and all(isinstance(n, str) for n in names) else None
    return Source(path=path, runs=runs, baseline=baseline, targets=targets, notes=notes,
                  ended=Ending.of(manifest), variations=variations)


def name_runs(sources: list[Source]) -> None:
    """Give every run a unique column name: the comparison keys runs by name, so two runs sharing
    one would silently become one column and hide a divergence. Baseline runs read `base:s123#1`;
    when two sources hold runs of the same name (two machines' `s123#1`), each source's runs are
    prefixed with its directory's name; runs still sharing a name (two traces of one run in one
    folder) get their trace file's name, or its path, added."""
    for source in sources:
        if source.baseline:
            for run in source.runs:
                run.name = f"{BASELINE_PREFIX}:{run.name}"
    others = [source for source in sources if not source.baseline]
    names = [run.name for source in others for run in source.runs]
    if len(set(names)) < len(names) and len(others) > 1:
        for source, label in zip(others, _source_labels(others)):
            for run in source.runs:
                run.name = f"{label}:{run.name}"
    runs = [run for source in sources for run in source.runs]
    position = {id(run): str(index) for index, run in enumerate(runs, start=1)}
    for suffix in (lambda run: run.trace_path.name if run.trace_path else None,
                   lambda run: str(run.trace_path) if run.trace_path else None,
                   lambda run: position[id(run)]):
        _suffix_clashes(runs, suffix)


def without_duplicates(sources: list[Source]) -> tuple[list[Source], list[str]]:
    """Each run once: a trace named twice (overlapping paths or globs), or a copy of one (the same
    header and the same events, to the microsecond of each event's time), would be held to itself
    and always agree. The first one named is kept; the warnings say which were dropped."""
    kept_runs: list[RunResult] = []
    warnings = []
    for source in sources:
        runs = []
        for run in source.runs:
            same = next((other for other in kept_runs if _same_run(run, other)), None)
            if same is None:
                runs.append(run)
                kept_runs.append(run)
            else:
                how = "given twice" if _resolved(run.trace_path) == _resolved(same.trace_path) else \
                    f"a copy of {same.trace_path}"
                warnings.append(f"{run.trace_path}: {how}; counted once")
        source.runs = runs
    return [source for source in sources if source.runs], warnings


def _same_run(run: RunResult, other: RunResult) -> bool:
    if run.trace_path is not None and _resolved(run.trace_path) == _resolved(other.trace_path):
        return True
    return (run.trace is not None and other.trace is not None and run.trace.header == other.trace.header
            and run.trace.events == other.trace.events)


def _resolved(path: Path | None) -> Path | None:
    try:
        return path.resolve() if path is not None else None
    except OSError:
        return path


def _suffix_clashes(runs: list[RunResult], suffix: Callable[[RunResult], str | None]) -> None:
    """Add ` (suffix)` to the names of runs that share a name, when that tells them all apart."""
    by_name: dict[str, list[RunResult]] = {}
    for run in runs:
        by_name.setdefault(run.name, []).append(run)
    for clash in (group for group in by_name.values() if len(group) > 1):
        suffixes = [suffix(run) for run in clash]
        if None not in suffixes and len(set(suffixes)) == len(suffixes):
            for run, text in zip(clash, suffixes):
                run.name = f"{run.name} ({text})"


def _source_labels(sources: list[Source]) -> list[str]:
    """The shortest folder labels that tell the sources apart; `base` is the baseline's, never theirs."""
    def label(source: Source, depth: int) -> str:
        folder = source.path.resolve() if source.path.is_dir() else source.path.resolve().parent
        return "/".join(folder.parts[-depth:])

    for depth in (1, 2, 3):
        labels = [label(source, depth) for source in sources]
        if len(set(labels)) == len(labels) and BASELINE_PREFIX not in labels:
            return labels
    return [str(index) for index in range(1, len(sources) + 1)]


def _load_directory(directory: Path, notes: list[str]) -> tuple[list[RunResult], dict[str, Any] | None]:
    """Every trace in the folder: the runs its manifest lists (with the status the runner saw),
    then any other trace put there (a colleague's, another machine's), judged by its own exit
    event. A manifest adds what it knows; it never hides a trace."""
    manifest = _read_manifest(directory / MANIFEST)
    runs, listed = [], set()
    for entry in manifest["runs"] if manifest is not None else []:
        trace_name = entry.get("trace")
        if trace_name is None and entry.get("status") == "skipped":  # never started (--fail-fast, Ctrl-C)
            runs.append(_skipped(entry))
            continue
        if not isinstance(trace_name, str) or "/" in trace_name or "\\" in trace_name:
            continue  # a manifest entry pointing elsewhere
        listed.add(trace_name)
        trace_path = directory / trace_name
        if not trace_path.exists():
            runs.append(_without_trace(entry, trace_path, f"its trace {trace_path.name} is missing from the directory"))
            continue
        runs.append(_read_run(trace_path, entry))
    for path in sorted(directory.glob("*.jsonl")):
        if path.name in listed or not path.is_file():
            continue
        if manifest is not None:
            if not has_trace_header(path):
                continue  # not a trace: another tool's file beside the runs
            notes.append(f"{path}: not listed in {MANIFEST}; compared, its run's end read from its own trace")
        runs.append(_read_run(path, None))
    if not any(run.status != "skipped" for run in runs):
        if manifest is not None:
            raise SavedRunsError(f"{directory}: {MANIFEST} lists no run with a trace, and no trace is there")
        raise SavedRunsError(f"{directory} holds no seedcheck traces (*.jsonl); give a directory written "
                             "by `seedcheck run --save` or trace files")
    return runs, manifest


def _skipped(entry: dict[str, Any]) -> RunResult:
    # The entry's seed is a whole number or None: _read_manifest checked it (_entry_problem).
    return RunResult(name=str(entry.get("name", "?")), seed=entry.get("seed"), status="skipped",
                     problem=entry.get("problem") or "not run")


def _read_manifest(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SavedRunsError(f"{path}: unreadable run manifest ({err}); remove it to read the traces alone") from None
    version = manifest.get("seedcheck_run") if isinstance(manifest, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or not isinstance(manifest.get("runs"), list):
        raise SavedRunsError(f"{path}: not a seedcheck run manifest; remove it to read the traces alone")
    if version > MANIFEST_FORMAT:
        raise SavedRunsError(f"{path}: written by a newer seedcheck (manifest format {version}); upgrade seedcheck")
    manifest["runs"] = [entry for entry in manifest["runs"] if isinstance(entry, dict)]
    for number, entry in enumerate(manifest["runs"], start=1):
        problem = _entry_problem(entry)
        if problem is not None:
            raise SavedRunsError(f"{path}: run {number}: {problem}; correct it, or remove the manifest to read "
                                 "the traces alone")
    return manifest


STATUSES = ("ok", "failed", "timeout", "interrupted", "stopped", "skipped")


def _entry_problem(entry: dict[str, Any]) -> str | None:
    """What is wrong with one manifest run entry, or None: a hand-edited value of the wrong type
    would otherwise reach the reports (a traceback, or a JSON report that fails its own schema)."""
    def whole(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    checks = {"name": (lambda v: isinstance(v, str), "text"),
              "seed": (lambda v: v is None or whole(v), "a whole number or null"),
              "status": (lambda v: v in STATUSES, f"one of {', '.join(STATUSES)}"),
              "exit_code": (lambda v: v is None or whole(v), "a whole number or null"),
              "duration_s": (lambda v: v is None or (is_finite_number(v) and v >= 0), "a number of seconds or null"),
              "problem": (lambda v: v is None or isinstance(v, str), "text or null"),
              "trace": (lambda v: v is None or isinstance(v, str), "a file name or null")}
    for key, (valid, expected) in checks.items():
        if key in entry and not valid(entry[key]):
            shown = repr(entry[key])
            return f"{key} is {shown if len(shown) <= 40 else shown[:37] + '...'}, not {expected}"
    return None


def _read(path: Path) -> Trace:
    try:
        return read_trace(path)
    except TraceError as err:
        raise SavedRunsError(str(err)) from None


def _read_run(path: Path, entry: dict[str, Any] | None) -> RunResult:
    """One saved run. An empty trace that its manifest lists, or with its run's stderr log beside
    it, is a run that died before it started: a failed run, as `run` counted it, not bad input."""
    try:
        trace = read_trace(path)
    except TraceError as err:
        if died_at_start(path, entry):
            return _without_trace(entry, path, str(err).removeprefix(f"{path}: "))
        raise SavedRunsError(str(err)) from None
    return _from_trace(trace, manifest_entry=entry)


def died_at_start(path: Path, entry: dict[str, Any] | None) -> bool:
    """Whether a trace file is a run's that died before it wrote anything: empty, and listed by its
    manifest (`entry`) or with its run's stderr log beside it (a user's empty .jsonl has neither)."""
    try:
        empty = path.stat().st_size == 0
    except OSError:
        return False
    stem = path.name.removesuffix(".jsonl")
    return empty and (entry is not None or path.with_name(f"{stem}.stderr.log").is_file())


def _from_trace(trace: Trace, manifest_entry: dict[str, Any] | None) -> RunResult:
    seed = trace.seed  # read_trace refuses a header seed that is not a whole number
    exit_event = trace.find("exit")
    if manifest_entry is not None:
        status = str(manifest_entry.get("status", "ok"))
        exit_code = manifest_entry.get("exit_code")
        duration = manifest_entry.get("duration_s")
        problem = manifest_entry.get("problem")
    elif exit_event is not None:
        exit_code = exit_event.value if isinstance(exit_event.value, int) else None
        status = "ok" if exit_code == 0 else "failed"
        duration = (exit_event.detail or {}).get("duration_s")
        problem = None if status == "ok" else f"exited with code {exit_event.value}"
    else:
        status, exit_code, duration = "failed", None, None
        problem = "the trace ends before the run finished (it crashed, was killed or timed out)"
    if status == "ok" and exit_event is None:
        status, problem = "failed", "the trace has no exit event: it is incomplete"
    if trace.torn_tail:  # the run died mid-write: say so, as the events before the cut are still judged
        problem = f"{problem or 'its trace is incomplete'}; its last line was cut short and is left out"
    stem = trace.path.name.removesuffix(".jsonl")
    return RunResult(
        name=trace.run, seed=seed, status=status,
        exit_code=exit_code if isinstance(exit_code, int) else None,
        duration_s=duration if isinstance(duration, (int, float)) else None,
        trace_path=trace.path, trace=trace, problem=problem,
        stderr_tail=stderr_tail(trace.path.with_name(f"{stem}.stderr.log")),
    )


def _without_trace(entry: dict[str, Any] | None, trace_path: Path, problem: str) -> RunResult:
    """A failed run that left no readable trace: named and seeded by its manifest entry, or by its
    file's name (`s123-2.jsonl` is s123#2) when no manifest lists it."""
    stem = trace_path.name.removesuffix(".jsonl")
    named = re.fullmatch(r"(s(\d+)|own)-(\d+)", stem)
    entry = entry or ({"name": f"{named[1]}#{named[3]}", "seed": int(named[2]) if named[2] else None}
                      if named else {})
    return RunResult(
        name=str(entry.get("name", stem)),
        seed=entry.get("seed"),  # a whole number or None: parsed above, or checked by _read_manifest
        status="failed", trace_path=trace_path, problem=problem,
        stderr_tail=stderr_tail(trace_path.with_name(f"{stem}.stderr.log")),
    )
