"""The committed baseline a check is held to (`--baseline`): loaded once, and the seeds it allows.

An error about a baseline says where the baseline came from (`origin`, empty when the user typed
it): one set in pyproject.toml is easy to forget, and `--no-baseline` is the way out.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Callable

from seedcheck.compare import RunResult, exit_detail
from seedcheck.saved import SavedRunsError, Source, load as load_saved
from seedcheck.usage import UsageProblem, checked_path_kind, refuse_empty


def load_baseline(path: str | None, origin: str = "", require_finished: bool = True) -> Source | None:
    """The saved runs at `path`, refused in one line when they cannot be held to; with
    `require_finished=False` (a baseline about to be recorded again) a run that did not finish
    is let through."""
    if path is None:
        return None
    refuse_empty([path], "--baseline")
    if checked_path_kind(Path(path), "--baseline ") is None:
        raise UsageProblem(f"--baseline: no such trace or directory: {path}; record one with "
                           f"`seedcheck run SCRIPT --save DIR`{origin}")
    try:
        source = load_saved(path, baseline=True)
    except SavedRunsError as err:
        raise UsageProblem(f"--baseline: {err}{origin}") from None
    # A baseline run that crashed, timed out or left a cut trace holds the check to what it did not
    # do: refused here, before any training, not found failed (exit 3) once the check's runs end.
    broken = next((run for run in source.runs if run.status != "skipped"
                   and (run.status != "ok" or run.trace is None or run.trace.torn_tail)), None) if require_finished else None
    if broken is not None:
        problem = broken.problem or (f"ended {broken.status}" if broken.status != "ok" else "its trace is incomplete")
        raise UsageProblem(f"--baseline {path}: its run {broken.name} did not finish ({problem}); a baseline needs "
                           f"runs that did: record it again ({rerecord_command(source.runs, source.path)}){origin}")
    return source


def rerecord_command(baseline_runs: list[RunResult], path: Path, like: RunResult | None = None,
                     options: dict[str, Any] | None = None) -> str:
    """The command (in backticks) that records the baseline at `path` again, to be run as it is: each of its seeds
    (none for the script's own seeding: `--seed None` is refused) with as many runs as it holds
    (`--force` replaces all of it, another seed's traces too), into its directory, taken as `like`
    (the check's run: a baseline taken otherwise differs from the next check by that) or, without
    one, as its own runs were: the target, --max-steps, --every, --no-override, --force-seed and
    the script's arguments, quoted for a shell. `options` (as options_against_baseline's `given`)
    replaces those four: the check's, before it has a run."""
    seeds = list(dict.fromkeys(run.seed for run in baseline_runs))
    repeats = max(sum(1 for run in baseline_runs if run.seed == seed) for seed in seeds) if seeds else 1
    model = like if like is not None and like.trace is not None else \
        next((run for run in baseline_runs if run.trace is not None), None)
    header: dict[str, Any] = model.trace.header if model is not None and model.trace is not None else {}
    target = header.get("target") if isinstance(header.get("target"), str) else "SCRIPT"
    command = header.get("command") if isinstance(header.get("command"), list) else []
    words = ["seedcheck", "run", *(target.split(" ", 1) if target.startswith("-m ") else [target])]
    for seed in seeds:
        if seed is not None:
            words += ["--seed", str(seed)]
    words += ["--repeats", str(repeats)]
    taken = options if options is not None else {
        "--max-steps": (exit_detail(model) or {}).get("max_steps") if model is not None else None,
        "--every": header.get("every"), "--no-override": header.get("override") is False,
        "--force-seed": bool(header.get("force_seed"))}
    for option in ("--max-steps", "--every"):
        if isinstance(taken.get(option), int):
            words += [option, str(taken[option])]
    words += [flag for flag in ("--no-override", "--force-seed") if taken.get(flag)]
    folder = path.parent if path.suffix == ".jsonl" else path
    words += ["--save", str(folder), "--force"]
    arguments = command[2:] if command[:1] == ["-m"] else command[1:]
    if arguments:
        words += ["--", *map(str, arguments)]
    held_to = "" if folder == path else f", then hold the check to {folder}"
    return f"`{shlex.join(words)}`{held_to}"


def seeds_against_baseline(seeds: list[int | None], baseline: Source, origin: str = "",
                           given_by: str = "--seed") -> list[int | None]:
    """The seeds to check: the baseline's when none are given; given seeds must be in it."""
    baseline_seeds = list(dict.fromkeys(run.seed for run in baseline.runs))
    if not seeds:
        return baseline_seeds
    unknown = [seed for seed in seeds if seed not in baseline_seeds]
    if unknown:
        def shown(values: list[int | None]) -> str:
            return ", ".join("own seeding" if v is None else str(v) for v in values)

        asked = f"{given_by} {shown(unknown)}" if given_by.startswith("--") else \
            f"{given_by}' seed{'s' if len(unknown) > 1 else ''} {shown(unknown)}"  # not "the compared runs 5"
        raise UsageProblem(f"{asked}: not in the baseline {baseline.path} (its seeds: "
                           f"{shown(baseline_seeds)}); use its seeds or record a new baseline{origin}")
    return seeds


def refuse_other_script(label: str, baseline: Source, origin: str = "") -> None:
    """A baseline recorded from another script has none of this one's stages: every check would
    fail on a table of missing rows. Told apart by file name (a checkout elsewhere runs the same
    script by another path); a baseline that does not say which script it holds is let through."""
    names = {Path(target).name for target in baseline.targets}
    if names and Path(label).name not in names:
        raise UsageProblem(f"--baseline {baseline.path} was recorded from {', '.join(baseline.targets)}, not {label}: "
                           f"hold {label} to a baseline of its own (`seedcheck run {label} --save DIR`){origin}")


def recorded_options(baseline: Source) -> dict[str, Any]:
    """The options of `seedcheck run` that decide which stages a run records and what its seeding
    does, as the baseline's traces say, where all its runs say the same: --every's K and
    --max-steps's N (None: not given), the two flags, and under "steps" the most steps a run trained
    that --max-steps did not stop (None: no run says)."""
    traced = [run for run in baseline.runs if run.trace is not None]
    headers = [run.trace.header for run in traced if run.trace is not None]
    details = [exit_detail(run) for run in traced]
    found: dict[str, Any] = {}
    if not traced:
        return found

    def agreed(option: str, values: list[Any]) -> None:
        if len(set(values)) == 1:
            found[option] = values[0]

    if all("every" in header for header in headers):
        agreed("--every", [header["every"] if isinstance(header["every"], int) else None for header in headers])
    agreed("--no-override", [header.get("override") is False for header in headers])
    agreed("--force-seed", [bool(header.get("force_seed")) for header in headers])
    if all(detail is not None for detail in details):
        steps = [detail.get("max_steps") if isinstance(detail.get("max_steps"), int) else None
                 for detail in details if detail is not None]
        agreed("--max-steps", steps)
        if "--max-steps" in found:
            stopped = {detail.get("stopped") is True for detail in details if detail is not None}
            trained = [detail["steps"] for detail in details
                       if detail is not None and detail.get("stopped") is False and isinstance(detail.get("steps"), int)]
            if stopped == {True}:
                found["stopped"] = True
            elif stopped == {False}:
                found["stopped"], found["steps"] = False, max(trained, default=None)
    return found


def options_against_baseline(given: dict[str, Any], baseline: Source, origin: str = "",
                             configured: Callable[[str], bool] = lambda key: False) -> dict[str, Any]:
    """The options a check held to `baseline` runs with. One the check leaves out (None, False in
    `given`) is taken from the baseline, as its seeds are: --every so that its step snapshots are
    compared, and --max-steps, --no-override and --force-seed, which change what a run computes, so
    that the check is not found to differ by them alone, after all its training. One of those three
    given otherwise is refused before any run where the traces show it changes the run: a
    --max-steps is let through where the baseline was not stopped and its traces do not say how far
    it trained, or say fewer steps. Another --every is let through: the snapshots both sides took
    are compared, with a warning (compare.py's other_every). `configured(key)` says the value came
    from pyproject.toml (`max_steps` for --max-steps: its key there, and the option's parameter)."""
    recorded = recorded_options(baseline)
    options = ("--every", "--max-steps", "--no-override", "--force-seed")
    taken = {option: recorded[option] if given[option] in (None, False) and option in recorded else given[option]
             for option in options}
    for option in options[1:]:
        wanted = given[option]
        if option not in recorded or wanted in (None, False) or wanted == recorded[option]:
            continue
        if option == "--max-steps" and recorded.get("stopped") is not True and \
                (recorded.get("steps") is None or wanted > recorded["steps"]):
            continue  # stops nothing the baseline's runs trained, as far as they say
        key = option.removeprefix("--").replace("-", "_")
        shown = option if wanted is True else f"{option} {wanted}"
        leave_out = f"{option} out"
        if configured(key):
            shown, leave_out = f"{shown} (pyproject.toml [tool.seedcheck] {key})", f"{key} out of pyproject.toml"
        # The command keeps the baseline's other options: only this one changes.
        raise UsageProblem(f"{shown}: the baseline {baseline.path} was recorded {_recorded_text(option, recorded)}, "
                           f"and a check taken otherwise differs from it by that alone: leave {leave_out} to check "
                           f"as the baseline was recorded, or record the baseline again with it "
                           f"({rerecord_command(baseline.runs, baseline.path, options=taken)}){origin}")
    return taken


def _recorded_text(option: str, recorded: dict[str, Any]) -> str:
    value = recorded[option]
    if option == "--max-steps" and value is not None:
        if recorded.get("stopped") is True:
            return f"with --max-steps {value} (its runs stopped training after {value} steps)"
        if recorded.get("steps") is not None:
            return f"with --max-steps {value} (its runs trained {recorded['steps']} steps, unstopped)"
    if value is None or value is False:
        return f"without {option}"
    return f"with {option}" if value is True else f"with {option} {value}"


def taken_from_baseline(given: dict[str, Any], taken: dict[str, Any]) -> str:
    """The options options_against_baseline took from the baseline, as typed (empty: none)."""
    return " ".join(option if value is True else f"{option} {value}" for option, value in taken.items()
                    if value != given[option])
