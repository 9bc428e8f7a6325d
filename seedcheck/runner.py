"""The run matrix: one fresh subprocess per (seed, repeat), each writing its own trace and logs.

Each child runs `python -m seedcheck.hook` in its own process group, so a timeout or Ctrl-C ends
the whole group (the script's own children included), and the terminal's Ctrl-C reaches
seedcheck, which then decides. The script's stdout/stderr go to per-run log files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import seedcheck
from seedcheck.compare import RunResult
from seedcheck.hook.settings import ENV_VAR, HookSettings
from seedcheck.trace import TraceError, read_trace

KILL_GRACE_S = 3.0
STDERR_TAIL_LINES = 12
MANIFEST = "seedcheck-run.json"


@dataclass(frozen=True)
class Target:
    """What to run: a script path or a module name, with its arguments."""

    script: str | None
    module: str | None
    args: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.script if self.script else f"-m {self.module}"


@dataclass(frozen=True)
class RunSpec:
    name: str  # s123#1, or own#1 when the script's own seeding is observed
    seed: int | None
    file_stem: str  # s123-1: names without '#' for the file system

    @property
    def trace_file(self) -> str:
        return f"{self.file_stem}.jsonl"


@dataclass
class RunPlan:
    target: Target
    seeds: list[int | None]
    repeats: int
    save_dir: Path
    timeout: float | None = None
    override: bool = True
    force_seed: bool = False
    every: int | None = None
    max_steps: int | None = None
    artifacts: tuple[str, ...] = ()
    runs: list[RunSpec] = field(init=False)

    def __post_init__(self) -> None:
        self.runs = []
        for seed in self.seeds:
            prefix = "own" if seed is None else f"s{seed}"
            for index in range(1, self.repeats + 1):
                self.runs.append(RunSpec(f"{prefix}#{index}", seed, f"{prefix}-{index}"))


class Progress(Protocol):
    def started(self, spec: RunSpec) -> None: ...
    def finished(self, spec: RunSpec, result: RunResult) -> None: ...


def substitute_seed(args: tuple[str, ...], seed: int | None) -> list[str]:
    """`{seed}` in the script's arguments becomes the run's seed."""
    if seed is None:
        return list(args)
    return [arg.replace("{seed}", str(seed)) for arg in args]


def child_environment(plan: RunPlan, spec: RunSpec) -> dict[str, str]:
    env = dict(os.environ)
    settings = HookSettings(
        trace=str((plan.save_dir / spec.trace_file).resolve()),
        run=spec.name,
        seed=spec.seed,
        script=plan.target.script,  # as typed: the child shares our working directory, like `python x.py`
        module=plan.target.module,
        args=substitute_seed(plan.target.args, spec.seed),
        override=plan.override,
        force_seed=plan.force_seed,
        every=plan.every,
        max_steps=plan.max_steps,
        artifacts=list(plan.artifacts),
        command=[plan.target.label, *plan.target.args],
    )
    env[ENV_VAR] = settings.to_env()
    env["SEEDCHECK_RUN"] = spec.name
    env["SEEDCHECK_RUN_DIR"] = str(plan.save_dir.resolve())
    if spec.seed is not None:
        env["SEEDCHECK_SEED"] = str(spec.seed)
    else:
        env.pop("SEEDCHECK_SEED", None)
    # The child must import this very seedcheck, installed or not; appended, so the script's own
    # imports resolve exactly as they would without seedcheck.
    package_root = str(Path(seedcheck.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), package_root) if p)
    return env


class Runner:
    def __init__(self, plan: RunPlan, progress: Progress | None = None) -> None:
        self.plan = plan
        self.progress = progress
        self.interrupted = False
        self._current: subprocess.Popen[bytes] | None = None

    def run_all(self) -> list[RunResult]:
        """Run every planned run in order. Ctrl-C ends the current run's process group and skips
        the rest; whatever was recorded is returned for a partial report."""
        self.plan.save_dir.mkdir(parents=True, exist_ok=True)
        results: list[RunResult] = []
        for spec in self.plan.runs:
            if self.interrupted:
                results.append(RunResult(spec.name, spec.seed, "skipped", problem="not run: interrupted"))
                continue
            try:
                results.append(self._run_one(spec))
            except KeyboardInterrupt:
                self.interrupted = True
                self._end_current()
                results.append(self._collect(spec, "interrupted", None, 0.0, problem="interrupted"))
                if self.progress:
                    self.progress.finished(spec, results[-1])
        self._write_manifest(results)
        return results

    def _run_one(self, spec: RunSpec) -> RunResult:
        save = self.plan.save_dir
        if self.progress:
            self.progress.started(spec)
        started = time.monotonic()
        with open(save / f"{spec.file_stem}.stdout.log", "wb") as out, \
                open(save / f"{spec.file_stem}.stderr.log", "wb") as err:
            self._current = subprocess.Popen(
                [sys.executable, "-m", "seedcheck.hook"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env=child_environment(self.plan, spec), start_new_session=True,
            )
            try:
                code = self._current.wait(timeout=self.plan.timeout)
                status, problem = ("ok", None) if code == 0 else ("failed", _describe_exit(code))
            except subprocess.TimeoutExpired:
                self._end_current()
                code, status, problem = None, "timeout", f"timed out after {self.plan.timeout:g}s"
        self._current = None
        result = self._collect(spec, status, code, time.monotonic() - started, problem)
        if self.progress:
            self.progress.finished(spec, result)
        return result

    def _end_current(self) -> None:
        """SIGTERM the run's process group, then SIGKILL what is left after a grace period."""
        process = self._current
        if process is None:
            return
        for sig, grace in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, KILL_GRACE_S)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # the script's own children may outlive the group leader
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _collect(self, spec: RunSpec, status: str, code: int | None, duration: float,
                 problem: str | None) -> RunResult:
        trace_path = self.plan.save_dir / spec.trace_file
        result = RunResult(spec.name, spec.seed, status, exit_code=code, duration_s=round(duration, 3),
                           trace_path=trace_path, problem=problem,
                           stderr_tail=stderr_tail(self.plan.save_dir / f"{spec.file_stem}.stderr.log"))
        try:
            result.trace = read_trace(trace_path)
        except TraceError as err:
            result.problem = f"{problem}; {err}" if problem else str(err)
            if result.status == "ok":
                result.status = "failed"
        return result

    def _write_manifest(self, results: list[RunResult]) -> None:
        """`seedcheck-run.json` beside the traces: how each run ended, for a later `compare`."""
        manifest = {
            "seedcheck_run": 1,
            "seedcheck": seedcheck.__version__,
            "target": self.plan.target.label,
            "args": list(self.plan.target.args),
            "runs": [{"name": r.name, "seed": r.seed, "status": r.status, "exit_code": r.exit_code,
                      "duration_s": r.duration_s, "trace": r.trace_path.name if r.trace_path else None,
                      "problem": r.problem} for r in results],
        }
        (self.plan.save_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def stderr_tail(path: Path) -> list[str]:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 16384))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    lines: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    for line in text.splitlines():
        if line.strip():
            lines.append(line)
    return list(lines)
