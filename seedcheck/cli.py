"""Command line: parse, validate, call the engine, pick a reporter, exit with the contract's code.

Exit codes (DESIGN.md §5): 0 reproducible, 1 a stage diverged, 2 usage or bad input, 3 a run
failed (wins over 1), 130 interrupted. Every user error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import sys
from pathlib import Path

import click
from rich.console import Console

from seedcheck import __version__
from seedcheck.compare import EXIT_INTERRUPTED, EXIT_USAGE, compare
from seedcheck.hints import explain
from seedcheck.report import json as json_report
from seedcheck.report import table
from seedcheck.runner import RunPlan, Runner, Target

MAX_SEED = 2**32 - 1  # numpy's legacy seed range, the narrowest of the seeding APIs


class UsageProblem(click.ClickException):
    """A user error: reported as one line, exit 2."""

    exit_code = EXIT_USAGE


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seedcheck")
def cli() -> None:
    """Is your TensorFlow/Keras training reproducible? If not, where does it first diverge, and why?"""


@cli.command(context_settings={"allow_interspersed_args": True})
@click.argument("script", required=False)
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED)
@click.option("-m", "--module", metavar="MODULE", help="Run a module as `python -m` would, instead of a script.")
@click.option("--seed", "seeds", type=int, multiple=True, metavar="N",
              help="A seed to run under (repeatable). Without it, the script's own seeding is observed.")
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True, help="Runs per seed.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Fail a run that takes longer than this.")
@click.option("--every", type=click.IntRange(min=1), metavar="K",
              help="Also record weights every K optimizer steps (fit and custom loops; custom loops default to 100).")
@click.option("--artifact", "artifacts", multiple=True, metavar="PATH",
              help="A file the script writes, fingerprinted after each run (repeatable; {seed} allowed).")
@click.option("--save", "save_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Where traces and logs go [default: .seedcheck/runs/<time>/].")
@click.option("--force", is_flag=True, help="Replace traces already in the --save directory.")
@click.option("--no-override", is_flag=True,
              help="Leave the script's seeding calls alone (the seed then reaches it only via $SEEDCHECK_SEED and {seed}).")
@click.option("--force-seed", is_flag=True,
              help="What-if: seed everything (keras.utils.set_random_seed) before the script starts.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Report format on stdout.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write the JSON report to FILE.")
@click.option("-q", "--quiet", is_flag=True, help="No live progress; the report only.")
def run(script: str | None, script_args: tuple[str, ...], module: str | None, seeds: tuple[int, ...], repeats: int,
        timeout: float | None, every: int | None, artifacts: tuple[str, ...], save_dir: Path | None, force: bool, no_override: bool, force_seed: bool,
        output_format: str, json_file: Path | None, quiet: bool) -> None:
    """Run SCRIPT (or -m MODULE) under each seed, --repeats times each, and compare the runs.

    Arguments after `--` go to the script; `{seed}` in them becomes the run's seed.
    """
    target = _target(script, module, script_args)
    for seed in seeds:
        if not 0 <= seed <= MAX_SEED:
            raise UsageProblem(f"--seed {seed}: seeds must be between 0 and {MAX_SEED} (numpy's range)")
    plan = RunPlan(target=target, seeds=list(dict.fromkeys(seeds)) or [None], repeats=repeats,
                   save_dir=_prepare_save_dir(save_dir, force), timeout=timeout, override=not no_override,
                   force_seed=force_seed, every=every, artifacts=artifacts)
    stderr = Console(stderr=True)
    runner = Runner(plan)
    if quiet or output_format == "json":
        results = runner.run_all()
    else:
        from seedcheck.progress import LiveProgress

        with LiveProgress(stderr, plan.runs) as progress:
            runner.progress = progress
            results = runner.run_all()
    comparison = explain(compare(results, interrupted=runner.interrupted))
    if json_file is not None:
        _write(json_file, json_report.dumps(comparison, target.label))
    if output_format == "json":
        click.echo(json_report.dumps(comparison, target.label), nl=False)
    else:
        table.render(comparison, report_console(), target.label, save_dir=str(plan.save_dir))
    sys.exit(comparison.exit_code)


def report_console() -> Console:
    """stdout for the report. Piped output (CI logs) has no terminal width to follow: use a width
    that fits the table rather than Rich's 80 columns, unless $COLUMNS says otherwise."""
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=130)
    return console


def _target(script: str | None, module: str | None, args: tuple[str, ...]) -> Target:
    if module:
        if script is not None:
            args = (script, *args)  # with -m, every positional argument is the module's
        if importlib.util.find_spec(module.split(".")[0]) is None and not Path(module.split(".")[0]).is_dir():
            raise UsageProblem(f"no module named {module.split('.')[0]!r} (from -m {module}); run seedcheck from "
                               "the directory you would run `python -m` from")
        return Target(script=None, module=module, args=args)
    if script is None:
        raise UsageProblem("give a script to run (seedcheck run train.py) or a module (seedcheck run -m pkg.train)")
    path = Path(script)
    if not path.exists():
        raise UsageProblem(f"no such script: {script}")
    if path.is_dir():
        raise UsageProblem(f"{script} is a directory; give the training script inside it (or use -m for a package)")
    try:
        source = path.read_bytes()
    except OSError as err:
        raise UsageProblem(f"cannot read {script}: {err.strerror}") from None
    try:
        compile(source, script, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as err:
        where = f" (line {err.lineno})" if isinstance(err, SyntaxError) and err.lineno else ""
        raise UsageProblem(f"{script} is not a Python script{where}: {err.msg if isinstance(err, SyntaxError) else err}") from None
    return Target(script=script, module=None, args=args)


def _prepare_save_dir(save_dir: Path | None, force: bool) -> Path:
    if save_dir is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        save_dir = Path(".seedcheck") / "runs" / stamp
        suffix = 1
        while save_dir.exists():
            suffix += 1
            save_dir = Path(".seedcheck") / "runs" / f"{stamp}-{suffix}"
    if save_dir.exists():
        old = [p for p in save_dir.iterdir() if p.suffix == ".jsonl" or p.name.endswith(".log")
               or p.name == "seedcheck-run.json"]
        if old and not force:
            raise UsageProblem(f"--save {save_dir} already holds {len(old)} trace/log files; choose another "
                               "directory or pass --force to replace them")
        for stale in old:
            stale.unlink()
    try:
        save_dir.mkdir(parents=True, exist_ok=True)
        probe = save_dir / ".seedcheck-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise UsageProblem(f"cannot write to --save {save_dir}: {err.strerror}") from None
    return save_dir


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageProblem(f"cannot write {path}: {err.strerror}") from None


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors with the contract's exit codes instead of Click's usage blocks."""
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
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("seedcheck: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(0)
