"""`seedcheck vary`: which part of the environment breaks reproducibility?

The idea is reprotest's (Reproducible Builds): a control pair of runs under identical settings,
then one run per variation that changes only that aspect, each compared with the control through
the same engine. Runs of one seed that agree on one machine can still come apart on a CI runner or
a colleague's laptop; each variation stands for one way those machines differ.

The control pins what would otherwise differ between any two processes, so that a variation's run
differs from the control in its one aspect only: PYTHONHASHSEED (the user's number, else 0) and the
wall clock (every control run reads the same start instant). Everything else is the user's
environment as it is.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from seedcheck.compare import BITWISE, DIVERGED, MISSING, Comparison, RunResult, Tolerance, compare
from seedcheck.hints import explain
from seedcheck.report.labels import stage_label
from seedcheck.runner import RunSpec

CLOCK_SHIFT_S = 400 * 86400 + 12345.678  # another year, month, day and time of day


@dataclass(frozen=True)
class Variation:
    name: str
    aspect: str  # what it varies, for --help and the README
    fix: str  # what to do when varying it breaks reproducibility


VARIATIONS: dict[str, Variation] = {v.name: v for v in (
    Variation("threads", "TF intra/inter-op thread counts and OMP_NUM_THREADS (1, or 2 where already 1)",
              "fix the thread counts on every machine (tf.config.threading.set_intra_op_parallelism_threads and "
              "set_inter_op_parallelism_threads, OMP_NUM_THREADS), or compare across machines with --rtol"),
    Variation("hashseed", "PYTHONHASHSEED (another value than the control's)",
              "iterate sorted(...) rather than a set or dict of strings, or set PYTHONHASHSEED=0 for every run"),
    Variation("onednn", "TF_ENABLE_ONEDNN_OPTS flipped (oneDNN kernels off, or on where the control has them off)",
              "set TF_ENABLE_ONEDNN_OPTS to one value on every machine, or compare across machines with --rtol"),
    Variation("determinism", "op determinism on: tf.config.experimental.enable_op_determinism(), applied by the hook",
              "call tf.config.experimental.enable_op_determinism() at the start of the script (and fix thread counts)"),
    Variation("tfdata", "tf.data's parallel map/interleave calls that do not pass deterministic= run with "
              "deterministic=False (as tf.data.Options().deterministic = False would make them)",
              "the data order depends on the pipeline's determinism: never set deterministic=False on those calls "
              "or in tf.data.Options for this pipeline (this variation overrides an Options().deterministic = True "
              "the script sets, which keeps it safe)"),
    Variation("cwd", "another working directory (a temporary mirror of the path to this one, made of symlinks)",
              "derive nothing (seeds, order, names) from the working directory or absolute paths"),
    Variation("listdir", "directory listings reversed (os.listdir, os.scandir, and so glob, os.walk, pathlib; "
              "tf.io.gfile.listdir and glob)",
              "sort directory listings: sorted(os.listdir(...)), sorted(glob.glob(...))"),
    Variation("time", "the wall clock read as another date and time of day (time.time, datetime.now, time.strftime, …)",
              "do not seed from the clock: take the seed from an argument or $SEEDCHECK_SEED"),
)}


class VaryError(ValueError):
    """A bad --vary list: one line for the user."""


def parse_vary(text: str) -> list[str]:
    """`all` (the default), `threads,hashseed`, `-time` (all but time), `all,-time,-cwd`."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise VaryError("--vary is empty; give variations (e.g. threads,hashseed), all, or -NAME to leave one out")
    unknown = [item.lstrip("-") for item in items if item.lstrip("-") not in VARIATIONS and item != "all"]
    if unknown:
        raise VaryError(f"--vary: no variation named {unknown[0]!r}; the variations are {', '.join(VARIATIONS)} "
                        "(all by default; -NAME leaves one out)")
    chosen = [item for item in items if not item.startswith("-")]
    names = list(VARIATIONS) if not chosen or "all" in chosen else list(dict.fromkeys(chosen))
    removed = {item[1:] for item in items if item.startswith("-")}
    names = [name for name in names if name not in removed]
    if not names:
        raise VaryError("--vary leaves no variation to run")
    return names


@dataclass
class VaryPlan:
    """The control pair and one run per variation, with what each changes."""

    seed: int | None
    names: list[str]
    clock_start: float = field(default_factory=time.time)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    mirror: Path | None = None  # the root of the `cwd` variation's mirror of the file system's path to here

    def specs(self) -> list[RunSpec]:
        own = self.environ.get("PYTHONHASHSEED", "")
        control_env = (("PYTHONHASHSEED", own if own.isdigit() else "0"),)  # "random" or unset: pinned to 0
        control_hook = (("clock_start", self.clock_start),)
        specs = [RunSpec(f"control#{i}", self.seed, f"control-{i}", env=control_env, variation=control_hook)
                 for i in (1, 2)]
        for name in self.names:
            env, hook, cwd = dict(control_env), dict(control_hook), None
            if name == "threads":
                count = "2" if self.environ.get("TF_NUM_INTRAOP_THREADS") == "1" else "1"
                env.update(TF_NUM_INTRAOP_THREADS=count, TF_NUM_INTEROP_THREADS=count, OMP_NUM_THREADS=count)
            elif name == "hashseed":
                env["PYTHONHASHSEED"] = str((int(env["PYTHONHASHSEED"]) + 1) % 4294967296)
            elif name == "onednn":
                env["TF_ENABLE_ONEDNN_OPTS"] = "1" if self.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0" else "0"
            elif name == "determinism":
                hook["op_determinism"] = True
            elif name == "tfdata":
                hook["tfdata_nondeterministic"] = True
            elif name == "cwd":
                cwd = str(self.mirrored_cwd)
                # Call sites named as in the control: the mirror's paths read as the real ones.
                hook.update(site_root=str(Path.cwd()), mirror_root=str(self.mirror))
            elif name == "listdir":
                hook["reverse_listdir"] = True
            elif name == "time":
                hook["clock_start"] = self.clock_start + CLOCK_SHIFT_S
            specs.append(RunSpec(f"{name}#1", self.seed, f"{name}-1", env=tuple(env.items()),
                                 variation=tuple(hook.items()), cwd=cwd))
        return specs

    def make_mirror(self) -> Path:
        """The mirror's root: under it, the working directory's path (`<root>/a/b/c` for `/a/b/c`),
        each level a real directory of symlinks to the real level's entries, so every relative path,
        `..` included, resolves as it does here. The script sees another `os.getcwd()`, and nothing
        else changes. Returns the root; `mirrored_cwd` is the run's working directory."""
        if self.mirror is None:
            self.mirror = Path(tempfile.mkdtemp(prefix="seedcheck-cwd-")).resolve()  # as os.getcwd() reads it
            _mirror_path(self.mirror, Path.cwd())
        return self.mirror

    @property
    def mirrored_cwd(self) -> Path:
        """The `cwd` variation's working directory: the working directory's place in the mirror."""
        here = Path.cwd()
        return self.make_mirror() / here.relative_to(here.anchor)

    def cleanup(self) -> None:
        if self.mirror is not None:
            shutil.rmtree(self.mirror, ignore_errors=True)


def _mirror_path(root: Path, real: Path) -> None:
    """Mirror each level from `/` down to `real` under `root`: the level on the way down as a real
    directory, every other entry as a symlink to the real one (the mirror itself left out, when it
    lies under a mirrored level). An unreadable level is only passed through."""
    level, mirrored = Path(real.anchor), root
    for part in (*real.relative_to(real.anchor).parts, None):
        try:
            entries = os.listdir(level)
        except OSError:
            entries = []
        for entry in entries:
            if entry != part and level / entry != root:
                (mirrored / entry).symlink_to(level / entry)
        if part is None:
            return
        level, mirrored = level / part, mirrored / part
        mirrored.mkdir()


@dataclass
class VariationOutcome:
    name: str
    aspect: str
    run: str  # the varied run's name
    verdict: str  # reproducible | diverged | inconclusive (the control pair differs) | failed | not run
    first_stage: str | None = None  # the first stage where it differs from the control
    first_key: str | None = None
    fix: str | None = None
    problem: str | None = None

    @property
    def where(self) -> str | None:
        """For a report's column: the first differing stage, or why the run has no verdict."""
        return self.first_stage or (self.problem if self.verdict != "reproducible" else None)


def outcomes(comparison: Comparison, names: list[str]) -> tuple[VariationOutcome, list[VariationOutcome]]:
    """The control pair's outcome, then each variation's against the control's first run."""
    by_name = {run.name: run for run in comparison.runs}
    control = by_name.get("control#1")
    held = {"tolerance": comparison.tolerance, "ignore": comparison.ignore}
    control_pair = _pair_outcome("control", "the control pair: identical settings", control,
                                 by_name.get("control#2"), fix=None, **held)
    results = [_pair_outcome(name, VARIATIONS[name].aspect, control, by_name.get(f"{name}#1"),
                             fix=VARIATIONS[name].fix, **held) for name in names]
    if control_pair.verdict == "diverged":
        # Two runs under identical settings already differ: a varied run that differs from the first
        # there or later is no evidence against its variation, and its fix would send the user the
        # wrong way. One that differs earlier, where the control runs still agree, is.
        for outcome in results:
            if outcome.verdict == "diverged" and not _before_control(comparison, outcome.first_key, control_pair):
                outcome.verdict, outcome.fix = "inconclusive", None
                outcome.problem = "the control pair differs too"
    return control_pair, results


def _before_control(comparison: Comparison, key: str | None, control_pair: VariationOutcome) -> bool:
    """Whether stage `key` comes before the first stage where the control pair differs (so the
    control runs agree there), by the check's order of stages. Unknown stages are not."""
    if control_pair.verdict == "reproducible":
        return key is not None
    if control_pair.verdict != "diverged":
        return False
    position = {stage.key: index for index, stage in enumerate(comparison.stages)}
    return position.get(key or "", len(position)) < position.get(control_pair.first_key or "", -1)


# The general rules that already speak of what a variation changes, and name the line: kept.
_RULES_OF_VARIATION = {"threads": {"environment-difference"}, "onednn": {"environment-difference"},
                       "hashseed": {"hash-order"}, "time": {"varying-seed", "varying-shuffle-seed"},
                       "tfdata": {"nondeterministic-pipeline", "parallel-random-map", "data-pipeline-order"}}


def judge_variations(comparison: Comparison, names: list[str]) -> None:
    """Give a `vary` comparison its variations' outcomes, and the first divergence the cause of the
    variation it lies in (attribute_first_divergence): for a fresh check and a saved one alike."""
    comparison.variations = outcomes(comparison, names)
    attribute_first_divergence(comparison)


def attribute_first_divergence(comparison: Comparison) -> None:
    """The check's first divergence, when it lies between the control and one variation's run while
    the control pair agrees, is that variation's doing: its cause and fix say so. The general rules
    know nothing of what `vary` changed, and guessed (a random op in a parallel map, for a listing
    reversed), against the variation's own line under the table."""
    divergence = comparison.first_divergence
    if divergence is None or comparison.variations is None:
        return
    if not _before_control(comparison, divergence.stage.key, comparison.variations[0]):
        return
    varied = [name.split("#")[0] for name in divergence.runs if not name.startswith("control#")]
    variation = VARIATIONS.get(varied[0]) if len(varied) == 1 else None
    if variation is None or divergence.rule in _RULES_OF_VARIATION.get(variation.name, ()):
        return
    divergence.cause = (f"the control runs agree here, and the {variation.name} run differs from them in one "
                        f"thing: {variation.aspect}. The script depends on it.")
    divergence.fix, divergence.rule = variation.fix, f"vary-{variation.name}"


def _pair_outcome(name: str, aspect: str, control: RunResult | None, varied: RunResult | None,
                  fix: str | None, tolerance: Tolerance = BITWISE, ignore: tuple[str, ...] = ()) -> VariationOutcome:
    run_name = varied.name if varied else f"{name}#1"
    outcome = VariationOutcome(name, aspect, run_name, "not run")
    if not _finished(control) or not _finished(varied):
        outcome.verdict, outcome.problem = _unfinished(control if _finished(varied) else varied)
        return outcome
    pair = explain(compare([control, varied], tolerance=tolerance, ignore=ignore))  # --rtol/--atol/--ignore hold here too
    failing = [stage for stage in pair.stages if stage.fails and stage.verdict in (DIVERGED, MISSING)]
    if not failing:
        outcome.verdict = "reproducible"
        return outcome
    first = pair.first_divergence.stage if pair.first_divergence else failing[0]
    kind, description = stage_label(first)
    outcome.verdict, outcome.first_stage, outcome.first_key = "diverged", f"{kind} {description}", first.key
    outcome.fix = fix
    return outcome


def _finished(run: RunResult | None) -> bool:
    return run is not None and run.ok and run.trace is not None


def _unfinished(run: RunResult | None) -> tuple[str, str]:
    """(verdict, problem) for a pair one of whose runs did not finish. A run that never started
    (absent from a saved directory, skipped) or that Ctrl-C ended was not run to a verdict: only a
    run that ended on its own (crashed, timed out) is a failure."""
    if run is None or run.status in ("skipped", "stopped"):
        return "not run", (run.problem if run is not None else None) or "not run"
    if run.status == "interrupted":
        return "not run", run.problem or "interrupted"
    return "failed", run.problem or "failed"


def verdict_sentence(control: VariationOutcome, results: list[VariationOutcome]) -> tuple[str, str]:
    """(sentence, tone) for the whole check, reprotest's way."""
    if control.verdict == "diverged":
        earlier = ", ".join(f"{r.name} ({r.first_stage})" for r in results if r.verdict == "diverged")
        return (f"✘ Not reproducible even under identical settings: the control pair differs first at "
                f"{control.first_stage}" + (f"; and earlier when varying: {earlier}." if earlier else "."), "bad")
    if control.verdict == "failed":
        return f"✘ The control runs did not finish: {control.problem}.", "bad"
    if control.verdict != "reproducible":
        return f"Partial: the control pair did not finish ({control.problem}).", "warn"
    broken = [r for r in results if r.verdict == "diverged"]
    failed = [r for r in results if r.verdict == "failed"]
    if broken:
        listed = ", ".join(f"{r.name} ({r.first_stage})" for r in broken)
        return f"✘ Unreproducible when varying: {listed}.", "bad"
    if failed:
        return f"✘ Runs failed when varying: {', '.join(f'{r.name} ({r.problem})' for r in failed)}.", "bad"
    if any(r.verdict != "reproducible" for r in results):
        return "Partial: not every variation ran.", "warn"
    return f"✔ Reproducible under every variation ({', '.join(r.name for r in results)}).", "ok"

