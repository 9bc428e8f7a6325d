"""How stages and values read in a report: shared by the table and text reporters."""

from __future__ import annotations

import json
import re
from itertools import groupby
from typing import Any

from seedcheck.fingerprint import bytes_fingerprint
from seedcheck.compare import (CLOSE, DIFFERS, DIVERGED, IGNORED, MISSING, REPRODUCIBLE, SEED_INSENSITIVE, UNCHECKED,
                               Comparison, RunResult, Stage, exit_detail, unwritten_by)

FOLD_AT = 6  # consecutive init rows of one verdict beyond this fold into one summary row

KIND_LABELS = {"seed": "seeding", "init": "init", "weights": "weights", "data": "data", "metrics": "metrics",
               "env": "env", "exit": "exit", "shuffle": "shuffle", "rng": "random", "output": "output"}


def header_line(comparison: Comparison, target: str) -> str:
    return " · ".join(header_parts(comparison, target))


def header_parts(comparison: Comparison, target: str) -> list[str]:
    runs = [run for run in comparison.runs if not run.baseline]
    parts = ["seedcheck", target, f"{_runs_text(len(runs))} ({_per_seed(runs)})"]
    if comparison.baseline_runs:
        parts.append(f"baseline: {_count(len(comparison.baseline_runs), 'saved run')} ({_per_seed(comparison.baseline_runs)})")
    tf_env = comparison.env_value("env/tensorflow")
    for field, name in (("tensorflow", "TF"), ("keras", "Keras")):
        versions = _versions(comparison, field)
        if versions:
            parts.append(f"{name} {' / '.join(versions)}")
    detail = exit_detail(comparison.reference) if comparison.reference else None
    if detail is not None and not tf_env and not detail.get("tensorflow_used", True):
        parts.append("TensorFlow not used")
    if comparison.jobs > 1:
        parts.append(f"{comparison.jobs} at a time (--jobs: runs shared the CPU cores)")
    stopped = _stops(comparison)
    if stopped:
        parts.append(stopped)
    forced = [run for run in runs if run.trace is not None and run.trace.header.get("force_seed")]
    if forced:  # a what-if: the verdict is about the script seeded by seedcheck, not as written
        parts.append("what-if: everything seeded first (--force-seed)" if len(forced) == len(runs)
                     else f"what-if: {len(forced)} of {len(runs)} runs seeded first (--force-seed)")
    return parts


def _stops(comparison: Comparison) -> str | None:
    """Where --max-steps stopped training: in every run at one step (the usual), or in which runs
    (a baseline taken without it: said, or the header would describe only the reference run)."""
    traced = [run for run in comparison.runs if run.trace is not None]
    steps: dict[str, Any] = {}
    for run in traced:
        detail = exit_detail(run) or {}
        if detail.get("stopped"):
            steps[run.name] = detail.get("steps")
    if not steps:
        return None
    if len(steps) == len(traced) and len(set(steps.values())) == 1:
        return f"training stopped after {next(iter(steps.values()))} steps (--max-steps)"
    by_steps: dict[Any, list[str]] = {}
    for name, count in steps.items():
        by_steps.setdefault(count, []).append(name)
    shown = "; ".join(f"after {count} steps in {', '.join(names)}" for count, names in by_steps.items())
    return f"training stopped by --max-steps {shown} ({len(steps)} of {len(traced)} runs)"


def between_text(divergence: Any) -> str | None:
    """`between A and B` for the first divergence, or None: one run alone (an --artifact none
    wrote) has no pair, and an explanation that names both runs (`7801… in own#1, 071b… in
    own#2`) already says it."""
    first, second = divergence.runs

    def named(name: str) -> bool:  # "in own#1", "reached by s1#1", "not written by own#1, own#2"
        return re.search(rf"(?<![\w#]){re.escape(name)}(?!\w)", divergence.explanation) is not None

    if first == second or all(named(name) for name in divergence.runs):
        return None
    return f"between {first} and {second}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _per_seed(runs: list[RunResult]) -> str:
    """`seed 123 ×2, seed 7 ×2`: each seed once, in the order first seen (folders of two machines
    interleave their seeds)."""
    counts: dict[Any, int] = {}
    for run in runs:
        counts[run.seed] = counts.get(run.seed, 0) + 1
    return ", ".join(f"{seed_name(seed)} ×{count}" for seed, count in counts.items())


def _versions(comparison: Comparison, field: str) -> list[str]:
    """Each distinct TF (or Keras) version the runs recorded, the reference run's first: runs from
    two machines may differ there, and one version in the header would hide it."""
    runs = [comparison.reference, *comparison.runs] if comparison.reference else comparison.runs
    versions: dict[str, None] = {}
    for run in runs:
        event = run.trace.find("env/tensorflow") if run is not None and run.trace is not None else None
        value = event.value.get(field) if event is not None and isinstance(event.value, dict) else None
        if value:
            versions[str(value)] = None
    return list(versions)


def stage_label(stage: Stage) -> tuple[str, str]:
    """(kind column, description) for a stage key such as `metrics/fit#1/epoch-2/loss` or
    `shuffle/tf.random.shuffle@train.py:14#2` (the site has its own column, so it is left out)."""
    kind = KIND_LABELS.get(stage.kind, stage.kind)
    rest = stage.key.partition("/")[2]
    if stage.site:
        rest = rest.replace(f"@{stage.site}", "")
    elif stage.caller:
        rest = rest.replace("@?", "")  # drawn by a library with no user code on the stack: see site_text
    if stage.kind == "env":
        return kind, rest or "process"
    if stage.kind == "exit":
        return kind, "exit code"
    if stage.kind == "output":
        return kind, rest
    if stage.kind == "rng" and isinstance(stage.recorded("layer"), str):
        # A Keras layer's SeedGenerator: several share the line that made them (a list of layers): name the layer.
        return kind, f"{_drop_first_occurrence(rest)} · {stage.recorded('layer').split(' (')[0]}"
    called_by = stage.recorded("called_by")
    if stage.kind == "shuffle" and isinstance(called_by, str):
        # The call TF makes for the script's own (sample_from_datasets' Dataset.random): name that one.
        return kind, f"{_drop_first_occurrence(rest)} · {called_by.rsplit('.', 1)[-1]}"
    if stage.kind == "seed":
        return kind, _drop_first_occurrence(rest) + _asked(stage)
    if stage.kind in ("init", "shuffle", "rng"):
        return kind, _drop_first_occurrence(rest)
    parts = rest.split("/")
    parts[-1] = _drop_first_occurrence(parts[-1])
    return kind, " ".join(p.replace("epoch-", "epoch ").replace("pass-", "pass ").replace("step-", "step ")
                          for p in parts)


def _asked(stage: Stage) -> str:
    """` (asked 7)` for a seeding call seedcheck overrode with another value: the row shows what was
    applied (`random.seed 4294967262`, 7 shifted as the run's seed shifted the first call), and the
    script's own literal is what a reader looks for."""
    details = [event.detail for event in stage.events.values() if isinstance(event.detail, dict)]
    asked = {json.dumps(detail.get("asked"), sort_keys=True, default=str) for detail in details}
    if len(asked) != 1 or not any(detail.get("overridden") and detail.get("asked") != detail.get("applied")
                                  for detail in details):
        return ""
    return f" (asked {value_text(details[0].get('asked'), width=12)})"


def _drop_first_occurrence(part: str) -> str:
    """`set_seed#1` reads `set_seed`; `set_seed#2` keeps its number (the site tells them apart too);
    a site's folded draws, `uniform#rest`, read `uniform #rest` alike."""
    name, _, number = part.rpartition("#")
    if name and number == "rest":
        return f"{name} #rest"
    if not name or not number.isdigit():
        return part
    return name if number == "1" else f"{name} #{number}"


def short_site(site: str) -> str:
    """`sample_scripts/train.py:12` -> `train.py:12`; the full site stays in JSON."""
    return site.rsplit("/", 1)[-1]


def split_site(site: str | None) -> tuple[str | None, str | None]:
    """`train.py:14` -> ("train.py", "14"); a site with no line number is all path."""
    if not site:
        return None, None
    path, _, line = site.rpartition(":")
    return (path, line) if path and line.isdigit() else (site, None)


def site_names(stages: list[Stage]) -> dict[str, str]:
    """How each stage's site shows in a site column: its file name and line, with as many of its
    directories as tell it from another file of that name (`noise.py:3` and `lib/noise.py:3`, not
    two `noise.py:3`)."""
    files = {site.rsplit(":", 1)[0] for site in (stage.site for stage in stages) if isinstance(site, str)}
    shown: dict[str, str] = {}
    for path in files:
        parts = path.split("/")
        depth = 1
        while depth < len(parts) and any(other != path and other.split("/")[-depth:] == parts[-depth:] for other in files):
            depth += 1
        shown[path] = "/".join(parts[-depth:])
    return shown


def site_text(stage: Stage, names: dict[str, str] | None = None) -> str:
    """The site column: the user's call site (named as `names`, from site_names, says), or for a
    draw a library made on its own (no user code on the stack), the library's, as
    `keras: py_dataset_adapter.py:261`."""
    if stage.site:
        path, line = split_site(stage.site)
        if names and line and path in names:
            return f"{names[path]}:{line}"
        return short_site(stage.site)
    caller = stage.caller
    if caller is None:
        return ""
    package = caller.split("/", 1)[0] if "/" in caller else ""
    return f"{package}: {short_site(caller)}" if package else short_site(caller)


def verdict_text(stage: Stage) -> str:
    if stage.verdict == IGNORED:
        underlying = stage.ignored_verdict
        return f"ignored ({underlying})" if underlying and underlying != REPRODUCIBLE else "ignored"
    if stage.verdict == CLOSE:
        return f"close (|Δ| ≤ {stage.deviation:.2g})" if stage.deviation else "close"
    if stage.verdict == DIFFERS:
        return "differs (environment)"
    if stage.verdict == DIVERGED:
        if stage.max_delta is not None:
            return f"DIVERGED (max Δ {stage.max_delta:.2g})"
        if stage.superseded:
            return "differs, superseded"  # its values reached no later weight (compare._mark_superseded)
        if stage.clock:
            return "DIVERGED (clock seed)"  # alike within each seed only because its runs started together
        return f"DIVERGED ({stage.distinct_in_row} values)"
    if stage.verdict == MISSING:
        return f"not reached ({stage.not_reached})" if stage.not_reached else "missing"
    if stage.verdict == SEED_INSENSITIVE:
        return "seed-insensitive"
    if stage.verdict == UNCHECKED:
        return "unchecked (1 run)"
    if stage.unseeded_call:  # "reproducible" alone read as if the op's draws repeated
        return "same call, no seed"
    return "reproducible (by seed)" if stage.seed_sensitive else "reproducible"


def value_text(value: Any, width: int = 6, precise: bool = False) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.7g}" if precise else f"{value:.5g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value if len(value) <= width else value[:width - 2] + "…"
    text = json.dumps(value, sort_keys=True)
    return "{" + bytes_fingerprint(text.encode())[:width - 3] + "…}"


def folded_rows(stages: list[Stage]) -> list[Stage | str]:
    """The stages in order, with long runs of reproducible init rows folded into one line (a
    model's hundred variables would bury the rows that matter)."""
    rows: list[Stage | str] = []
    for (kind, verdict), group in groupby(stages, key=lambda s: (s.kind, s.verdict)):
        block = list(group)
        if kind == "init" and verdict == REPRODUCIBLE and len(block) > FOLD_AT:
            rows.extend(block[:2])
            rows.append(f"… {len(block) - 2} more variables, all reproducible")
        else:
            rows.extend(block)
    return rows


def env_value_text(value: Any) -> str:
    """An environment field's value: `unset` where a run did not record it."""
    if value is None:
        return "unset"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)


def seed_name(seed: Any) -> str:
    return "own seeding" if seed is None else f"seed {seed}"


def _interrupted_vary(comparison: Comparison, sentence: str) -> tuple[str, str]:
    """An interrupted run's sentence; for `seedcheck vary`, with what the variations that ran
    already found when it is bad news."""
    if comparison.variations is not None:
        from seedcheck.vary import verdict_sentence

        found, tone = verdict_sentence(*comparison.variations)
        if tone == "bad":
            return f"{sentence} {found}", tone
    return sentence, "warn"


def _runs_text(count: int) -> str:
    return f"{count} run{'s' if count != 1 else ''}"


def summary_line(comparison: Comparison) -> tuple[str, str]:
    """(symbol-led sentence, tone) for the verdict: tone is ok, warn or bad. A `seedcheck vary`
    speaks of its variations (reprotest's sentence)."""
    stages = comparison.stages
    failing = sum(s.fails for s in stages)
    # The environment is context; an --artifact --max-steps kept the script from writing was not checked.
    judged = [s for s in stages if s.verdict != IGNORED and s.kind != "env" and not s.not_reached]
    close = sum(s.verdict == CLOSE for s in stages)
    runs = len([r for r in comparison.runs if r.trace is not None])
    runs_text = _runs_text(runs)
    left_out = "every stage is left out by --ignore" if any(s.verdict == IGNORED for s in stages) else None
    against = " against the baseline" if comparison.baseline_runs else ""
    if comparison.interrupted:
        how = "Terminated (SIGTERM)" if comparison.terminated else "Interrupted"
        return _interrupted_vary(comparison, f"{how}: partial report of {runs_text}.")
    if comparison.variations is not None:
        from seedcheck.vary import verdict_sentence

        return verdict_sentence(*comparison.variations)
    ignored = sum(s.verdict == IGNORED for s in stages)  # said alike by every line that counts stages
    if comparison.verdict == "failed":
        unreached = sum(bool(s.not_reached) and s.verdict != IGNORED for s in stages)
        asides = [f"{ignored} ignored"] * bool(ignored and judged) + [f"{unreached} not reached"] * bool(unreached)
        aside = f" ({', '.join(asides)})" if asides else ""
        stages_text = f"{failing} of {len(judged)} stages diverged or missing{aside}" if judged else \
            (left_out or "no stage recorded")
        return f"✘ {len(comparison.failed_runs)} of {len(comparison.runs)} runs failed; {stages_text}.", "bad"
    if comparison.verdict == "diverged":
        if comparison.fail_fast:
            stopped = sum(r.status in ("stopped", "skipped") for r in comparison.runs)
            return (f"✘ Not reproducible{against}: stopped at the first divergence (--fail-fast); "
                    f"{stopped} of {len(comparison.runs)} runs stopped or not started.", "bad")
        unwritten = [s for s in stages if s.fails and s.kind == "output"
                     and len(unwritten_by(s)) == len([r for r in comparison.runs if r.trace is not None])]
        if unwritten and failing == len(unwritten):  # a path to check, not a computation that varies
            paths = ", ".join(s.key.removeprefix("output/") for s in unwritten)
            agree = len(judged) - failing
            return (f"✘ No run wrote the --artifact file {paths}: check its path; the other {agree} of "
                    f"{len(judged)} stages agree across {runs_text}.", "bad")
        how = "diverged or missing" if any(s.fails and s.verdict == MISSING for s in stages) else "diverged"
        aside = f" ({ignored} ignored)" if ignored else ""
        return f"✘ Not reproducible{against}: {failing} of {len(judged)} stages {how} across {runs_text}{aside}.", "bad"
    if not judged:
        what = left_out or "the runs recorded no stage to compare (no seeding, draws, weights or data)"
        return f"Nothing checked: {what}.", "warn"
    seeds = len({r.seed for r in comparison.runs if r.trace is not None})
    if all(s.verdict == UNCHECKED for s in judged) or (seeds and not comparison.repeats_compared):
        # Seeds compared with each other say whether a stage follows the seed, never whether a run repeats.
        between = (f"; the {seeds} seeds were compared with each other only (seed-insensitive stages "
                   "are marked)") if seeds > 1 else ""
        advice = "give two traces of a seed" if comparison.from_saved else "use --repeats 2 or more"
        return f"One run per seed: nothing to compare yet ({advice}){between}.", "warn"
    tolerance = comparison.tolerance
    not_reached = sum(bool(s.not_reached) and s.verdict != IGNORED for s in stages)
    reasons = "; ".join(dict.fromkeys(s.not_reached for s in stages if s.not_reached))
    asides = [f"{ignored} ignored"] * bool(ignored) + [f"{not_reached} not reached: {reasons}"] * bool(not_reached)
    aside = f" ({', '.join(asides)})" if asides else ""
    if close:
        return (f"✔ Reproducible within tolerance{against} (rtol {tolerance.rtol:g}, atol {tolerance.atol:g}): "
                f"{len(judged) - close} of {len(judged)} stages bitwise equal, {close} close, across {runs_text}{aside}.",
                "ok")
    superseded = sum(s.superseded for s in stages)
    if superseded:  # the warning above says which and why
        return (f"✔ Reproducible{against}: {len(judged) - superseded} of {len(judged)} stages agree across "
                f"{runs_text}{aside}; {superseded} initial value(s) differ, but no later weight carries them.", "ok")
    agree = "the 1 stage agrees" if len(judged) == 1 else f"all {len(judged)} stages agree"
    return f"✔ Reproducible{against}: {agree} across {runs_text}{aside}.", "ok"