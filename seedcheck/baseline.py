"""The committed baseline a check is held to (`--baseline`): loaded once, and the seeds it allows.

An error about a baseline says where the baseline came from (`origin`, empty when the user typed
it): one set in pyproject.toml is easy to forget, and `--no-baseline` is the way out.
"""

from __future__ import annotations

from pathlib import Path

from seedcheck.saved import SavedRunsError, Source, load as load_saved
from seedcheck.usage import UsageProblem, checked_path_kind, refuse_empty


def load_baseline(path: str | None, origin: str = "") -> Source | None:
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
                   and (run.status != "ok" or run.trace is None or run.trace.torn_tail)), None)
    if broken is not None:
        problem = broken.problem or (f"ended {broken.status}" if broken.status != "ok" else "its trace is incomplete")
        raise UsageProblem(f"--baseline {path}: its run {broken.name} did not finish ({problem}); a baseline needs "
                           f"runs that did: record it again (`seedcheck run SCRIPT --save {path} --force`){origin}")
    return source


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
