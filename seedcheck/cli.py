"""Command line: parse, validate, call the engine, pick a reporter, exit with the contract's code.

Exit codes (DESIGN.md §5): 0 reproducible, 1 a stage diverged, 2 usage or bad input, 3 a run
failed (wins over 1), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). Every user error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import click
from click.core import ParameterSource
from rich.console import Console

from seedcheck import __version__
from seedcheck import config as project_config
from seedcheck.baseline import (load_baseline, options_against_baseline, refuse_other_script, seeds_against_baseline,
                                taken_from_baseline)
from seedcheck.compare import EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE, Comparison, RunResult, Tolerance, compare
from seedcheck.config import MAX_SEED
from seedcheck.hints import explain
from seedcheck.inputs import check_artifacts, check_seed_placeholders, script_target
from seedcheck.report.terminal import report_console
from seedcheck.runner import RunPlan, Runner, RunSpec, Terminated, raise_terminated
from seedcheck.saved import SavedRunsError, Source, load as load_saved, name_runs, without_duplicates
from seedcheck.savedir import prepare_save_dir, replaced_by_force, save_dir_path
from seedcheck.trace import KINDS
from seedcheck.usage import EMPTY_FILE, EMPTY_PATH, UsageProblem, checked_path_kind, refuse_empty

if TYPE_CHECKING:
    from seedcheck.vary import VaryPlan


# The report table's words for two kinds, taken by `show --kind` too.
KIND_ALIASES = {"seeding": "seed", "random": "rng"}
CONFIG_ERROR = "seedcheck.config_error"  # ctx.meta key: a broken pyproject.toml, refused by uses_config


class FiniteFloatRange(click.FloatRange):
    """A FloatRange that refuses nan and infinity: every range check lets nan through, and
    `--timeout inf` or `--rtol nan` would quietly mean "no limit" or "nothing is close"."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


class GivenPath(click.Path):
    """A Path that refuses the empty string: `--save "$OUT"` with OUT unset must not write into
    (or `--force` clean) the working directory."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value:
            self.fail(EMPTY_PATH if self.dir_okay else EMPTY_FILE, param, ctx)
        return super().convert(value, param, ctx)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seedcheck")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Is your TensorFlow/Keras training reproducible? If not, where does it first diverge, and why?

    Defaults for run and compare can be set in pyproject.toml under [tool.seedcheck].
    """
    if ctx.invoked_subcommand == "show":
        return  # show reads one trace and no settings: a broken pyproject.toml must not stop it
    try:
        config = project_config.load()
    except project_config.ConfigError as err:
        # Raised when the command runs (uses_config), after its options are parsed: `--help`, which
        # explains the keys, must show under a broken pyproject.toml.
        ctx.meta[CONFIG_ERROR] = str(err)
        return
    # Read before the subcommand parses its options: Click then takes these as its defaults.
    ctx.default_map = {"run": config.defaults_for("run"), "compare": config.defaults_for("compare"),
                       "report": config.defaults_for("compare"), "vary": config.defaults_for("vary")}


def uses_config(command: Callable[..., Any]) -> Callable[..., Any]:
    """For a command that takes its defaults from [tool.seedcheck]: refuse a broken one first."""

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        problem = click.get_current_context().meta.get(CONFIG_ERROR)
        if problem is not None:
            raise UsageProblem(problem)
        return command(*args, **kwargs)

    return checked


def report_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that pick what a comparison holds the runs to and where its reports go."""
    options = [
        click.option("--baseline", type=str, metavar="PATH",
                     help="Saved runs (a --save directory or trace) to hold these runs to; exit 1 where they differ."),
        click.option("--no-baseline", is_flag=True, help="Ignore a baseline set in pyproject.toml."),
        click.option("--rtol", type=FiniteFloatRange(min=0), default=0.0, metavar="X",
                     help="Relative tolerance: weights and metrics within it are `close`, not diverged [default: 0, bitwise]."),
        click.option("--atol", type=FiniteFloatRange(min=0), default=0.0, metavar="X",
                     help="Absolute tolerance, added to rtol·|reference| (numpy.isclose's rule) [default: 0]."),
        click.option("--ignore", "ignore", multiple=True, metavar="PATTERN",
                     help="Leave stages whose key matches this pattern (e.g. 'metrics/*/time') out of the verdict (repeatable)."),
        click.option("--format", "output_format", type=click.Choice(["table", "json", "markdown"]), default="table",
                     show_default=True, help="Report format on stdout."),
        click.option("--json", "json_file", type=GivenPath(dir_okay=False, path_type=Path), metavar="FILE",
                     help="Also write the JSON report to FILE."),
        click.option("--junit", "junit_file", type=GivenPath(dir_okay=False, path_type=Path), metavar="FILE",
                     help="Also write a JUnit XML report (one test case per stage) to FILE."),
        click.option("--markdown", "markdown_file", type=GivenPath(dir_okay=False, path_type=Path), metavar="FILE",
                     help="Also write a Markdown report to FILE ($GITHUB_STEP_SUMMARY gets one automatically)."),
        click.option("--html", "html_file", type=GivenPath(dir_okay=False, path_type=Path), metavar="FILE",
                     help="Also write a self-contained HTML report (curves, divergence growth) to FILE; "
                          "needs the `html` extra."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@dataclass
class ReportRequest:
    baseline: str | None
    no_baseline: bool
    rtol: float
    atol: float
    ignore: tuple[str, ...]
    output_format: str
    json_file: Path | None
    junit_file: Path | None
    markdown_file: Path | None
    html_file: Path | None
    baseline_from_config: bool = False  # set by `baseline` in pyproject.toml, not on the command line

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ReportRequest:
        """The request from a command's options, knowing whether the baseline came from the config:
        an error about a baseline the user never named must say where it came from."""
        request = cls(**options)
        request.baseline_from_config = request.baseline is not None and _configured("baseline")
        return request

    @property
    def baseline_origin(self) -> str:
        """Said after an error about the baseline: where it came from, and the way out."""
        if not self.baseline_from_config:
            return ""
        return " (the baseline set in pyproject.toml [tool.seedcheck]; pass --no-baseline to leave it out)"

    def check_outputs(self) -> None:
        """Report files that cannot be written, and --html without its plotting library: said
        before any run starts, not after an hour of training."""
        for option, path in (("--json", self.json_file), ("--junit", self.junit_file),
                             ("--markdown", self.markdown_file), ("--html", self.html_file)):
            problem = _unwritable(path) if path is not None else None
            if problem is not None:
                raise UsageProblem(f"{option} {path}: {problem}")
        if self.html_file is not None:
            from seedcheck.report.html import PlottingUnavailable, require_plotting

            try:
                require_plotting()
            except PlottingUnavailable as err:
                raise UsageProblem(str(err)) from None

    @property
    def ignore_origin(self) -> str:
        """How a warning names an --ignore pattern: one from pyproject.toml is not one the user typed."""
        return "pyproject.toml's ignore pattern" if _configured("ignore") else "--ignore"

    @property
    def baseline_path(self) -> str | None:
        return None if self.no_baseline else self.baseline


def execution_options(command: Callable[..., Any], held_to_baseline: bool = True) -> Callable[..., Any]:
    """What to run and how: shared by `run` and `vary` (which is held to no baseline: its help
    does not say what a baseline gives)."""
    from_baseline = " Without it, a --baseline's." if held_to_baseline else ""
    like_baseline = " Taken from a --baseline recorded with it." if held_to_baseline else ""
    options = [
        click.argument("script", required=False),
        click.argument("script_args", nargs=-1, type=click.UNPROCESSED),
        click.option("-m", "--module", metavar="MODULE", help="Run a module as `python -m` would, instead of a script."),
        click.option("--seed", "seeds", type=int, multiple=True, metavar="N",
                     help="A seed to run under (repeatable). Without it, the baseline's seeds, or the script's own seeding."),
        click.option("--timeout", type=FiniteFloatRange(min=0, min_open=True), metavar="SECONDS",
                     help="Fail a run that takes longer than this."),
        click.option("--every", type=click.IntRange(min=1), metavar="K",
                     help="Also record weights every K optimizer steps (fit and custom loops; custom loops default to 100)."
                          + from_baseline),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
                     help="Runs at a time. Parallel runs share the CPU cores: their durations are not a lone run's."),
        click.option("--max-steps", type=click.IntRange(min=1), metavar="N",
                     help="End each run's training after N optimizer steps (the trace is complete up to there)."
                          + from_baseline),
        click.option("--artifact", "artifacts", multiple=True, metavar="PATH",
                     help="A file the script writes, fingerprinted after each run ends (repeatable; {seed} and {run_dir} allowed)."),
        click.option("--save", "save_dir", type=GivenPath(file_okay=False, path_type=Path), metavar="DIR",
                     help="Where traces and logs go [default: .seedcheck/runs/<time>/]."),
        click.option("--force", is_flag=True, help="Replace traces already in the --save directory."),
        click.option("--no-override", is_flag=True,
                     help="Leave the script's seeding calls alone (the seed then reaches it only via $SEEDCHECK_SEED and {seed})."
                          + like_baseline),
        click.option("--force-seed", is_flag=True,
                     help="What-if: seed everything (keras.utils.set_random_seed) before the script starts."
                          + like_baseline),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command(context_settings={"allow_interspersed_args": True})
@execution_options
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True, help="Runs per seed.")
@click.option("--fail-fast", is_flag=True,
              help="Compare runs while they execute; stop all work once two runs of a seed disagree (exit 1).")
@click.option("--vary", "vary_list", metavar="LIST",
              help="Instead of repeats: a control pair, then one run per variation of the environment "
                   "(as `seedcheck vary`; e.g. all, threads,hashseed, -time).")
@report_options
@click.option("-q", "--quiet", is_flag=True, help="No live progress; the report only.")
@uses_config
def run(repeats: int, fail_fast: bool, vary_list: str | None, **options: Any) -> None:
    """Run SCRIPT (or -m MODULE) under each seed, --repeats times each, and compare the runs.

    Arguments after `--` go to the script; `{seed}` in them becomes the run's seed.
    """
    if vary_list is not None:
        # Only what the user typed is refused: pyproject.toml's repeats and fail_fast are for plain runs.
        if _typed("fail_fast"):
            raise UsageProblem("--vary runs every variation to the end: leave out --fail-fast")
        if _typed("repeats"):
            raise UsageProblem("--vary runs a control pair and one run per variation: leave out --repeats")
        return _execute(vary_list=vary_list, **options)
    _execute(repeats=repeats, fail_fast=fail_fast, **options)


def _typed(name: str) -> bool:
    """Whether the option `name` was given on the command line (not a default, nor pyproject.toml's)."""
    return _source(name) is ParameterSource.COMMANDLINE


def _configured(name: str) -> bool:
    """Whether the option `name` took its value from pyproject.toml [tool.seedcheck]."""
    return _source(name) is ParameterSource.DEFAULT_MAP


def _source(name: str) -> ParameterSource | None:
    context = click.get_current_context(silent=True)
    return context.get_parameter_source(name) if context is not None else None


@cli.command(context_settings={"allow_interspersed_args": True})
@functools.partial(execution_options, held_to_baseline=False)
@click.option("--vary", "vary_list", default="all", show_default=True, metavar="LIST",
              help="Variations to run: names separated by commas, all, or -NAME to leave one out "
                   "(threads, hashseed, onednn, determinism, tfdata, cwd, listdir, time).")
@report_options
@click.option("-q", "--quiet", is_flag=True, help="No live progress; the report only.")
@uses_config
def vary(vary_list: str, **options: Any) -> None:
    """Which part of the environment breaks reproducibility? A control pair of runs under identical
    settings, then one run per variation that changes only that aspect (thread counts, PYTHONHASHSEED,
    oneDNN, op determinism, tf.data determinism, working directory, directory listing order, clock),
    each compared with the control. Exit codes and reports as for `run`.
    """
    _execute(vary_list=vary_list, **options)


def _execute(script: str | None, script_args: tuple[str, ...], module: str | None, seeds: tuple[int, ...],
             timeout: float | None, jobs: int, every: int | None, max_steps: int | None,
             artifacts: tuple[str, ...], save_dir: Path | None, force: bool, no_override: bool, force_seed: bool,
             quiet: bool, repeats: int = 2, fail_fast: bool = False, vary_list: str | None = None,
             **report: Any) -> None:
    request = ReportRequest.from_options(report)
    request.check_outputs()
    target = script_target(script, module, script_args)
    for seed in seeds:
        if not 0 <= seed <= MAX_SEED:
            raise UsageProblem(f"--seed {seed}: seeds must be between 0 and {MAX_SEED} (numpy's range)")
    variations = _vary_plan(vary_list, seeds, request) if vary_list is not None else None
    with _mirror_removed(variations):  # on a usage error after the mirror was made too
        # `--save <the baseline> --force` records the baseline again: holding the new runs to the
        # traces they are about to replace would fail every re-recording, a broken baseline's too.
        rerecording = request.baseline_path is not None and save_dir is not None and force \
            and replaced_by_force(save_dir, Path(request.baseline_path))
        try:
            baseline = load_baseline(request.baseline_path, request.baseline_origin, require_finished=not rerecording)
        except UsageProblem:
            if not rerecording:
                raise
            baseline = None  # unreadable, and about to be replaced: only its seeds were wanted
        run_seeds: list[int | None] = list(dict.fromkeys(seeds)) or [None]
        if baseline is not None:
            run_seeds = seeds_against_baseline(list(dict.fromkeys(seeds)), baseline, request.baseline_origin)
        if rerecording:
            click.echo(f"seedcheck: re-recording the baseline {request.baseline_path}: the new runs replace it "
                       "and are not compared with it", err=True)
            baseline = None
        adopted = ""  # the options taken from the baseline, as typed
        if baseline is not None:
            refuse_other_script(target.label, baseline, request.baseline_origin)
            given = {"--every": every, "--max-steps": max_steps, "--no-override": no_override, "--force-seed": force_seed}
            taken = options_against_baseline(given, baseline, request.baseline_origin, configured=_configured)
            adopted = taken_from_baseline(given, taken)
            every, max_steps = taken["--every"], taken["--max-steps"]
            no_override, force_seed = taken["--no-override"], taken["--force-seed"]
        if force_seed and run_seeds == [None]:
            raise UsageProblem("--force-seed seeds everything with the run's seed: give one with --seed N")
        check_seed_placeholders(target, artifacts, run_seeds)
        parallel = jobs > 1 and (variations is not None or len(run_seeds) * repeats > 1)
        check_artifacts(artifacts, run_seeds, jobs if parallel else 1)
        plan = RunPlan(target=target, seeds=run_seeds, repeats=repeats,
                       save_dir=save_dir_path(save_dir), timeout=timeout, override=not no_override,
                       force_seed=force_seed, every=every, max_steps=max_steps, artifacts=artifacts, jobs=jobs,
                       fail_fast=fail_fast, tolerance=Tolerance(request.rtol, request.atol), ignore=request.ignore,
                       specs=_vary_specs(variations) if variations is not None else None,
                       variations=variations.names if variations is not None else None)
        prepare_save_dir(plan, force)
        if adopted and baseline is not None:  # after the usage checks: an error stays one line
            # Said even with -q: it changes what the runs do, as the re-recording note does.
            click.echo(f"seedcheck: as the baseline {baseline.path} was recorded: {adopted}", err=True)
        runner = Runner(plan)
        runner.hold_later_interrupts = True  # this process ends once the partial report is out
        if quiet or request.output_format != "table":
            results = runner.run_all()
        else:
            from seedcheck.progress import LiveProgress

            with LiveProgress(Console(stderr=True), plan.runs) as progress:
                runner.progress = progress
                results = runner.run_all()
    new_runs = Source(path=plan.save_dir, runs=results, targets=[target.label])
    sources = [baseline, new_runs] if baseline is not None else [new_runs]
    comparison = _compare(sources, request, interrupted=runner.interrupted)
    comparison.jobs, comparison.fail_fast = jobs, runner.stopped_early
    comparison.terminated = runner.terminated
    if variations is not None:
        from seedcheck import vary as varying

        varying.judge_variations(comparison, variations.names)
    _report_and_exit(comparison, request, target.label, save_dir=str(plan.save_dir))


def _vary_plan(vary_list: str, seeds: tuple[int, ...], request: ReportRequest) -> VaryPlan:
    """The control pair and variations `--vary` asks for, or a usage error."""
    from seedcheck import vary as varying

    try:
        names = varying.parse_vary(vary_list)
    except varying.VaryError as err:
        raise UsageProblem(str(err)) from None
    if len(set(seeds)) > 1:
        configured = "" if _typed("seeds") else f"pyproject.toml seeds = {list(seeds)}: "
        raise UsageProblem(f"{configured}vary holds one seed's runs to a control: give one --seed")
    if request.baseline_path is not None:
        if _typed("baseline"):
            raise UsageProblem("vary compares its runs with its own control: leave out --baseline")
        request.no_baseline = True  # pyproject.toml's is for plain runs, as `seedcheck vary` reads it
    return varying.VaryPlan(seed=seeds[0] if seeds else None, names=names)


def _vary_specs(variations: VaryPlan) -> list[RunSpec]:
    """The plan's runs; making the `cwd` mirror can fail (a full or read-only temporary directory)."""
    try:
        return variations.specs()
    except OSError as err:
        raise UsageProblem(f"cannot make the cwd variation's working directory in {tempfile.gettempdir()}: "
                           f"{err.strerror}; leave it out with --vary -cwd") from None


@contextlib.contextmanager
def _mirror_removed(variations: VaryPlan | None) -> Iterator[None]:
    """Remove the `cwd` mirror however the block ends: runs done, a usage error, Ctrl-C."""
    try:
        yield
    finally:
        if variations is not None:
            variations.cleanup()


@cli.command(name="compare")
@click.argument("paths", nargs=-1, metavar="TRACE_OR_DIR...")
@report_options
@uses_config
def compare_command(paths: tuple[str, ...], **report: Any) -> None:
    """Compare saved runs: trace files or `run --save` directories (repeats, other seeds, other
    machines), with the same verdicts, reports and exit codes as `run`."""
    _compare_saved(paths, ReportRequest.from_options(report))


@cli.command(name="report")
@click.argument("paths", nargs=-1, metavar="TRACE_OR_DIR...")
@report_options
@uses_config
def report_command(paths: tuple[str, ...], **report: Any) -> None:
    """Report on saved runs again, e.g. as HTML: `seedcheck report .seedcheck/runs/<time> --html
    report.html`. The same verdicts and exit codes as `compare`, which it is another name for."""
    _compare_saved(paths, ReportRequest.from_options(report))


def _compare_saved(paths: tuple[str, ...], request: ReportRequest) -> None:
    request.check_outputs()
    if not paths:
        raise UsageProblem("give the traces or --save directories to compare (seedcheck compare runs/a runs/b)")
    refuse_empty(paths, "compare")
    baseline = load_baseline(request.baseline_path, request.baseline_origin)
    sources = [baseline] if baseline is not None else []
    for path in paths:
        try:
            sources.append(load_saved(path))
        except SavedRunsError as err:
            raise UsageProblem(str(err)) from None
    sources, duplicates = without_duplicates(sources)
    if baseline is not None:
        if len(sources) == 1:  # a run held to itself always agrees: nothing was checked
            raise UsageProblem(f"every compared run is a copy of the baseline {baseline.path}: nothing new to hold "
                               f"to it{request.baseline_origin}")
        seeds_against_baseline(list(dict.fromkeys(run.seed for source in sources[1:] for run in source.runs)),
                               baseline, request.baseline_origin, given_by="the compared runs")
    checks = [source.ended for source in sources if not source.baseline]  # a baseline's ending is not this check's
    comparison = _compare(sources, request, interrupted=any(ended.interrupted for ended in checks))
    comparison.terminated = any(ended.terminated for ended in checks)
    comparison.fail_fast = any(ended.stopped_early for ended in checks)
    comparison.jobs = max((ended.jobs for ended in checks), default=1)
    comparison.from_saved = True
    comparison.warnings[:0] = [note for source in sources for note in source.notes] + duplicates
    varied = sources[0].variations if len(sources) == 1 else None
    if varied is not None:  # a saved `seedcheck vary`: its report again
        from seedcheck import vary as varying

        if set(varied) <= set(varying.VARIATIONS):  # names a later seedcheck dropped: a plain report
            varying.judge_variations(comparison, varied)
    targets = list(dict.fromkeys(t for source in sources if not source.baseline for t in source.targets))
    _report_and_exit(comparison, request, targets[0] if len(targets) == 1 else "saved runs")


@cli.command()
@click.argument("trace_path", metavar="TRACE")
@click.option("--kind", "kinds", multiple=True, type=click.Choice([*KINDS, *KIND_ALIASES], case_sensitive=False),
              metavar="KIND", help=f"Only events of this kind ({', '.join(KINDS)}; repeatable; the table's "
                                   "`seeding` and `random` name seed and rng).")
@click.option("--full", is_flag=True, help="Print each event's whole detail as JSON.")
def show(trace_path: str, kinds: tuple[str, ...], full: bool) -> None:
    """Print one trace's events, readable: what a run recorded, in order."""
    kinds = tuple(KIND_ALIASES.get(kind.lower(), kind.lower()) for kind in kinds)
    from seedcheck import show as show_trace
    from seedcheck.trace import TraceError, read_trace

    refuse_empty([trace_path], "show")
    path = Path(trace_path)
    if checked_path_kind(path, "") == "dir":
        traces = sorted(p.name for p in path.glob("*.jsonl"))
        hint = f": {', '.join(traces[:6])}" if traces else " (it holds none)"
        raise UsageProblem(f"{trace_path} is a directory; give one of its traces{hint}")
    try:
        trace = read_trace(path)
    except TraceError as err:
        raise UsageProblem(str(err)) from None
    show_trace.render(trace, report_console(), kinds=kinds, full=full)


def _compare(sources: list[Source], request: ReportRequest, interrupted: bool) -> Comparison:
    name_runs(sources)
    runs: list[RunResult] = [run for source in sources for run in source.runs]
    comparison = compare(runs, interrupted=interrupted, tolerance=Tolerance(request.rtol, request.atol),
                         ignore=request.ignore, ignore_origin=request.ignore_origin)
    comparison = explain(comparison)
    scripts = {Path(t).name for source in sources for t in source.targets}
    if len(scripts) > 1:
        described = "; ".join(f"{', '.join(source.targets)} ({source.path})" for source in sources)
        comparison.warnings.insert(0, f"these runs come from different scripts: {described}")
    return comparison


def _report_and_exit(comparison: Comparison, request: ReportRequest, target: str, save_dir: str | None = None) -> None:
    """Write the report files, print the report, exit with the verdict's code. A report file that
    cannot be written (checked before the runs, so the disk filled or a directory went away since)
    is an error, but the report still reaches stdout and the runs' verdict keeps its exit code."""
    try:
        problems = _report(comparison, request, target, save_dir=save_dir)
    except BrokenPipeError:  # `seedcheck compare … | head`: the reader has what it wanted
        _discard_stdout()
        problems = []  # the report files are written before stdout; the verdict keeps its code
    for problem in problems:
        click.echo(f"seedcheck: error: {problem}", err=True)
    if comparison.interrupted and request.output_format != "table":
        click.echo("seedcheck: terminated" if comparison.terminated else "seedcheck: interrupted", err=True)
    sys.exit(comparison.exit_code or (EXIT_USAGE if problems else 0))


def _report(comparison: Comparison, request: ReportRequest, target: str, save_dir: str | None = None) -> list[str]:
    """Render every report asked for; the problems writing report files, as lines."""
    from seedcheck.report import json as json_report
    from seedcheck.report import junit, markdown

    problems: list[str] = []

    def write(path: Path, render: Callable[[], str]) -> None:
        try:
            path.write_text(render(), encoding="utf-8")
        except OSError as err:
            problems.append(f"cannot write {path}: {err.strerror}")

    if request.json_file is not None:
        write(request.json_file, lambda: json_report.dumps(comparison, target))
    if request.junit_file is not None:
        write(request.junit_file, lambda: junit.render(comparison, target))
    if request.markdown_file is not None:
        write(request.markdown_file, lambda: markdown.render(comparison, target))
    if request.html_file is not None:
        from seedcheck.report import html

        write(request.html_file, lambda: html.render(comparison, target))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(markdown.render(comparison, target) + "\n")
        except OSError as err:
            click.echo(f"seedcheck: warning: cannot append to $GITHUB_STEP_SUMMARY ({summary}): {err.strerror}", err=True)
    if request.output_format == "json":
        click.echo(json_report.dumps(comparison, target), nl=False)
    elif request.output_format == "markdown":
        click.echo(markdown.render(comparison, target))
    else:
        from seedcheck.report import table

        table.render(comparison, report_console(), target, save_dir=save_dir)
    return problems


def _unwritable(path: Path) -> str | None:
    """Why a report file could not be written here, or None. Missing directories are made (as
    pytest does for --junitxml), and removed again when the file cannot be written there; the file
    itself is not created, so a run that is interrupted leaves no empty report behind."""
    try:
        if path.is_dir():
            return "is a directory"
    except OSError as err:  # a name too long, a parent that cannot be searched
        return err.strerror or str(err)
    folder = path.parent
    missing = [d for d in (folder, *folder.parents) if not d.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        problem = _unwritable_in(path, folder)
    except FileExistsError:
        problem = f"{folder} is not a directory"
    except OSError as err:  # a directory name too long: the ones above it may have been made
        problem = f"cannot make its directory {folder}: {err.strerror}"
    if problem is not None:
        for made in missing:  # deepest first: each is empty, this call made it
            try:
                made.rmdir()
            except OSError:
                continue  # not made (mkdir stopped above it, its name too long): its parent may have been
    return problem


def _unwritable_in(path: Path, folder: Path) -> str | None:
    try:
        if path.exists():
            return None if os.access(path, os.W_OK) else "not writable"
    except OSError as err:  # a name too long: asked only once its folder exists
        return err.strerror or str(err)
    return None if os.access(folder, os.W_OK | os.X_OK) else f"cannot create files in {folder}"


def _discard_stdout() -> None:
    """After the reader of stdout went away (`| head`): send what is still buffered nowhere, so
    Python's flush at exit neither fails nor prints a traceback (the recipe in Python's docs)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors with the contract's exit codes instead of Click's usage blocks."""
    signal.signal(signal.SIGTERM, raise_terminated)
    # A non-interactive shell starts background jobs with SIGINT ignored, and Python keeps it so:
    # a CI script's `timeout -s INT` would then never stop the runs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        cli.main(args=argv, prog_name="seedcheck", standalone_mode=False)
    except click.exceptions.Exit as done:  # --help, --version
        sys.exit(done.exit_code)
    except click.ClickException as problem:
        message = problem.format_message()
        if isinstance(problem, click.UsageError) and problem.ctx is not None and not isinstance(problem, UsageProblem):
            message += f" (see `{problem.ctx.command_path} --help`)"
        click.echo(f"seedcheck: error: {message}", err=True)
        sys.exit(EXIT_USAGE)
    except Terminated:
        click.echo("seedcheck: terminated", err=True)
        sys.exit(EXIT_TERMINATED)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("seedcheck: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:  # `seedcheck show … | head`: output is all it does, and the reader took its part
        _discard_stdout()
        sys.exit(0)
    sys.exit(0)
