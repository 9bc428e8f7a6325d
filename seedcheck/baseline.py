"""The committed baseline a check is held to (`--baseline`): loaded once, and the seeds it allows.

An error about a baseline says where the baseline came from (`origin`, empty when the user typed
it): one set in pyproject.toml is easy to forget, and `--no-baseline` is the way out.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

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


def rerecord_command(baseline_runs: list[RunResult], path: Path, like: RunResult | None = None) -> str:
    """The command (in backticks) that records the baseline at `path` again, to be run as it is: each of its seeds
    (none for the script's own seeding: `--seed None` is refused) with as many runs as it holds
    (`--force` replaces all of it, another seed's traces too), into its directory, taken as `like`
    (the check's run: a baseline taken otherwise differs from the next check by that) or, without
    one, as its own runs were: the target, --max-steps, --every, --no-override, --force-seed and
    the script's arguments, quoted for a shell."""
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
    max_steps = (exit_detail(model) or {}).get("max_steps") if model is not None else None
    if isinstance(max_steps, int):
        words += ["--max-steps", str(max_steps)]
    if isinstance(header.get("every"), int):
        words += ["--every", str(header["every"])]
    if header.get("override") is False:
        words.append("--no-override")
    if header.get("force_seed"):
        words.append("--force-seed")
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
