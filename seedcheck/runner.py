"""The run matrix: one fresh subprocess per (seed, repeat), each writing its own trace and logs.

Each child runs `python -m seedcheck.hook` in its own process group, so a timeout or Ctrl-C ends
the whole group (the script's own children included), and the terminal's Ctrl-C reaches
seedcheck, which then decides. The script's stdout/stderr go to per-run log files; each run also
gets its own empty directory for its outputs ($SEEDCHECK_RUN_DIR), so parallel runs (--jobs)
never write over each other. With --fail-fast, the traces are read while they are written and the
remaining work is stopped at the first disagreement between two runs of one seed. The --artifact
files are fingerprinted here, after each run's process has ended (Python's shutdown may still
write them), and appended to its trace after the `exit` event.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import seedcheck
from seedcheck.artifacts import Artifact, before_run, output_records
from seedcheck.compare import BITWISE, RunResult, Tolerance
from seedcheck.hook.settings import ENV_VAR, HookSettings
from seedcheck.trace import Event, Trace, TraceError, TraceTail, encode_line, read_trace
from seedcheck.watch import DivergenceWatch

KILL_GRACE_S = 3.0
POLL_S = 0.05  # how often running children are checked (exit, timeout, --fail-fast)
SHUTDOWN_GRACE_S = 5.0  # --fail-fast waits this long at most for a run whose script has ended
STDERR_TAIL_LINES = 40  # enough to hold the script's own frame of a traceback (report/table.error_excerpt)
MANIFEST = "seedcheck-run.json"


class Terminated(KeyboardInterrupt):
    """SIGTERM on seedcheck (a CI runner cancelling the job): handled like Ctrl-C — every run's
    process group ended, the partial report printed — and exits 143 instead of 130."""


def raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


class _StopRequests:
    """Ctrl-C and SIGTERM while runs execute, kept as a request that the poll loop acts on at its
    next turn (within POLL_S). Raised by the default handlers instead, the KeyboardInterrupt could
    land inside `Popen.poll()` between its taking and releasing the run's waitpid lock, and every
    later wait on that run blocked for good (the likely cause of a Ctrl-C test that hung once). A
    signal the parent shell ignores (SIGINT in a background job) stays ignored; outside the main
    thread, where handlers cannot be set, the signals act as before."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopRequests:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(sig) is not signal.SIG_IGN:
                    self._previous[sig] = signal.signal(sig, self._note)
        return self

    def _note(self, signum: int, frame: Any) -> None:
        if self.received != signal.SIGTERM:  # a SIGTERM is not downgraded by a later Ctrl-C
            self.received = signum

    def raise_if_received(self) -> None:
        if self.received == signal.SIGTERM:
            raise Terminated()
        if self.received is not None:
            raise KeyboardInterrupt()

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)  # None: set outside Python


@dataclass(frozen=True)
class Target:
    """What to run: a script path or a module name, with its arguments."""

    script: str | None
    module: str | None
    args: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.script if self.script else f"-m {self.module}"

    @property
    def takes_seed(self) -> bool:
        """Whether the script is handed its seed through `{seed}` in its arguments."""
        return any("{seed}" in arg for arg in self.args)


@dataclass(frozen=True)
class RunSpec:
    name: str  # s123#1, or own#1 when the script's own seeding is observed
    seed: int | None
    file_stem: str  # s123-1: names without '#' for the file system
    env: tuple[tuple[str, str], ...] = ()  # `seedcheck vary`: environment variables set for this run
    variation: tuple[tuple[str, Any], ...] = ()  # `seedcheck vary`: settings the hook applies
    cwd: str | None = None  # `seedcheck vary`: another working directory

    @property
    def trace_file(self) -> str:
        return f"{self.file_stem}.jsonl"

    @property
    def run_dir(self) -> str:
        return self.file_stem  # under the save directory: the run's own outputs


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
    jobs: int = 1
    fail_fast: bool = False
    tolerance: Tolerance = BITWISE  # what --fail-fast counts as a disagreement
    ignore: tuple[str, ...] = ()
    specs: list[RunSpec] | None = None  # the runs, when not one per (seed, repeat): `seedcheck vary`
    variations: list[str] | None = None  # `seedcheck vary`'s, kept in the manifest for a later `report`
    runs: list[RunSpec] = field(init=False)
    # When the check began (epoch seconds): a run that reads a file written since then, outside its
    # own directory, reads an earlier run's output (hook/files.py).
    started: float = field(init=False, default_factory=time.time)

    def __post_init__(self) -> None:
        if self.specs is not None:
            self.runs = list(self.specs)
            return
        self.runs = []
        for seed in self.seeds:
            prefix = "own" if seed is None else f"s{seed}"
            for index in range(1, self.repeats + 1):
                self.runs.append(RunSpec(f"{prefix}#{index}", seed, f"{prefix}-{index}"))


class Progress(Protocol):
    def started(self, spec: RunSpec) -> None: ...
    def finished(self, spec: RunSpec, result: RunResult) -> None: ...


def substitute(args: tuple[str, ...], seed: int | None, run_dir: str) -> list[str]:
    """`{seed}` in the script's arguments becomes the run's seed, `{run_dir}` its own directory."""
    out = [arg.replace("{run_dir}", run_dir) for arg in args]
    return out if seed is None else [arg.replace("{seed}", str(seed)) for arg in out]


def run_dir_path(plan: RunPlan, spec: RunSpec) -> str:
    """The run's own output directory, absolute: what $SEEDCHECK_RUN_DIR and `{run_dir}` name."""
    return str((plan.save_dir / spec.run_dir).resolve())


def child_environment(plan: RunPlan, spec: RunSpec) -> dict[str, str]:
    env = dict(os.environ)
    run_dir = run_dir_path(plan, spec)
    settings = HookSettings(
        trace=str((plan.save_dir / spec.trace_file).resolve()),
        run=spec.name,
        seed=spec.seed,
        script=plan.target.script,  # as typed: the child shares our working directory, like `python x.py`
        module=plan.target.module,
        args=substitute(plan.target.args, spec.seed, run_dir),
        # A script handed its seed through `{seed}` seeds itself: its calls keep what they ask for,
        # so it computes what it computes under python (a fixed seed beside it stays fixed).
        override=plan.override and not plan.target.takes_seed,
        force_seed=plan.force_seed,
        every=plan.every,
        max_steps=plan.max_steps,
        command=[plan.target.label, *plan.target.args],
        variation=dict(spec.variation),
        check_started=plan.started,
    )
    env.update(spec.env)
    env[ENV_VAR] = settings.to_env()
    env["SEEDCHECK_RUN"] = spec.name
    env["SEEDCHECK_RUN_DIR"] = run_dir
    env["SEEDCHECK_SAVE_DIR"] = str(plan.save_dir.resolve())
    if spec.seed is not None:
        env["SEEDCHECK_SEED"] = str(spec.seed)
    else:
        env.pop("SEEDCHECK_SEED", None)
    # The child must import this very seedcheck, installed or not; appended, so the script's own
    # imports resolve exactly as they would without seedcheck.
    package_root = str(Path(seedcheck.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), package_root) if p)
    return env


@dataclass
class _Active:
    """A run in progress."""

    spec: RunSpec
    process: subprocess.Popen[bytes]
    started: float
    logs: list[Any]
    tail: TraceTail
    artifacts: list[Artifact]  # the --artifact files, as they were before the run started
    script_ended: bool = False  # its exit event is in the trace (read under --fail-fast): Python is shutting down


class Runner:
    def __init__(self, plan: RunPlan, progress: Progress | None = None) -> None:
        self.plan = plan
        self.progress = progress
        self.interrupted = False
        self.terminated = False
        self.hold_later_interrupts = False  # the CLI: after a Ctrl-C, ignore the next ones (run_all)
        self.watch = DivergenceWatch(plan.tolerance, plan.ignore) if plan.fail_fast else None
        self._running: dict[str, _Active] = {}

    @property
    def stopped_early(self) -> bool:
        return self.watch is not None and self.watch.divergence is not None

    def run_all(self) -> list[RunResult]:
        """Run every planned run, `jobs` at a time. Ctrl-C ends every running process group and
        skips the rest; --fail-fast does the same at the first disagreement. Whatever was recorded
        is returned for the report."""
        self.plan.save_dir.mkdir(parents=True, exist_ok=True)
        pending = list(self.plan.runs)
        results: dict[str, RunResult] = {}
        with _StopRequests() as requests:  # a second Ctrl-C while the runs are ended changes nothing
            try:
                while pending or self._running:
                    requests.raise_if_received()
                    while pending and len(self._running) < self.plan.jobs and not self.stopped_early:
                        self._start(pending.pop(0))
                    for active in list(self._running.values()):
                        self._check(active, results)
                    if self.stopped_early:
                        self._end_all("stopped", "stopped by --fail-fast: two runs of a seed already disagree", results)
                        break
                    time.sleep(POLL_S)
                requests.raise_if_received()  # one that came in the last turn still stops seedcheck
            except KeyboardInterrupt as stop:
                self.interrupted, self.terminated = True, isinstance(stop, Terminated)
                self._end_all("interrupted", "terminated (SIGTERM)" if self.terminated else "interrupted", results)
        if self.interrupted and self.hold_later_interrupts and threading.current_thread() is threading.main_thread():
            # A user pressing Ctrl-C again and again: the partial report the first one asked for is
            # written all the same (a second one used to end seedcheck with no report). SIGTERM,
            # and SIGKILL, still end it. Only the CLI asks for this: it exits once the report is out.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        reason = "not run: interrupted" if self.interrupted else "not run: --fail-fast found a divergence"
        for spec in pending:
            results[spec.name] = RunResult(spec.name, spec.seed, "skipped", problem=reason)
            if self.progress:
                self.progress.finished(spec, results[spec.name])
        ordered = [results[spec.name] for spec in self.plan.runs if spec.name in results]
        self._write_manifest(ordered)
        return ordered

    def _start(self, spec: RunSpec) -> None:
        save = self.plan.save_dir
        (save / spec.run_dir).mkdir(exist_ok=True)
        if self.progress:
            self.progress.started(spec)
        logs = [open(save / f"{spec.file_stem}.stdout.log", "wb"), open(save / f"{spec.file_stem}.stderr.log", "wb")]
        artifacts = before_run(self.plan.artifacts, spec.seed, run_dir_path(self.plan, spec), spec.cwd or os.getcwd())
        process = subprocess.Popen(
            [sys.executable, "-m", "seedcheck.hook"],
            stdin=subprocess.DEVNULL, stdout=logs[0], stderr=logs[1],
            env=child_environment(self.plan, spec), start_new_session=True, cwd=spec.cwd,
        )
        self._running[spec.name] = _Active(spec, process, time.monotonic(), logs, TraceTail(save / spec.trace_file),
                                           artifacts)

    def _check(self, active: _Active, results: dict[str, RunResult]) -> None:
        """Poll one run: its new events (--fail-fast), its end, its timeout."""
        code = active.process.poll()
        if self.watch is not None:  # read what it wrote, up to its last event if it has ended
            events = active.tail.read()
            active.script_ended = active.script_ended or any(event.kind == "exit" for event in events)
            self.watch.feed(active.spec.name, active.spec.seed, events)
        elapsed = time.monotonic() - active.started
        if code is not None:
            status, problem = ("ok", None) if code == 0 else ("failed", _describe_exit(code))
            self._finish(active, status, code, problem, results)
        elif self.plan.timeout is not None and elapsed > self.plan.timeout:
            _end_groups([active.process])
            self._finish(active, "timeout", None, f"timed out after {self.plan.timeout:g}s", results)

    def _finish(self, active: _Active, status: str, code: int | None, problem: str | None,
                results: dict[str, RunResult]) -> None:
        for log in active.logs:
            log.close()
        del self._running[active.spec.name]
        result = self._collect(active.spec, status, code, time.monotonic() - active.started, problem)
        if result.trace is not None and status in ("ok", "failed"):  # ended by itself: its files are final
            outputs = _record_outputs(result.trace, active.artifacts)
            if self.watch is not None:
                self.watch.feed(active.spec.name, active.spec.seed, outputs)
        results[active.spec.name] = result
        if self.progress:
            self.progress.finished(active.spec, result)

    def _end_all(self, status: str, problem: str, results: dict[str, RunResult]) -> None:
        active = list(self._running.values())
        if status == "stopped":
            # --fail-fast: a run whose script has ended (its exit event is written) is only shutting
            # down; killed there, it read as stopped in the summary while its table said exit 0.
            # It gets a moment to end by itself (Python's shutdown takes ~1 s after TensorFlow).
            deadline = time.monotonic() + SHUTDOWN_GRACE_S
            while any(run.script_ended and run.process.poll() is None for run in active) \
                    and time.monotonic() < deadline:
                time.sleep(POLL_S)
        # Ended by themselves since the last poll (finished, or crashed, as Ctrl-C came): their own
        # outcome. Asked before the signals: a script may answer SIGTERM by exiting 0 half-way through.
        ended = {run.spec.name: code for run in active if (code := run.process.poll()) is not None}
        _end_groups([a.process for a in active])
        for run in active:
            code = ended.get(run.spec.name)
            if code is None:
                self._finish(run, status, None, problem, results)
            else:
                self._finish(run, "ok" if code == 0 else "failed", code, None if code == 0 else _describe_exit(code),
                             results)

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
        if result.status == "ok" and result.trace.find("exit") is None and not result.trace.torn_tail:
            _complete_trace(result.trace, code, duration)
        return result

    def _write_manifest(self, results: list[RunResult]) -> None:
        """`seedcheck-run.json` beside the traces: how each run ended, for a later `compare`."""
        manifest = {
            "seedcheck_run": 1,
            "seedcheck": seedcheck.__version__,
            "target": self.plan.target.label,
            "args": list(self.plan.target.args),
            "jobs": self.plan.jobs,
            # How the check ended, so `seedcheck report` tells the same story (additive in format 1).
            "interrupted": self.interrupted, "terminated": self.terminated, "stopped_early": self.stopped_early,
            "runs": [{"name": r.name, "seed": r.seed, "status": r.status, "exit_code": r.exit_code,
                      "duration_s": r.duration_s, "trace": r.trace_path.name if r.trace_path else None,
                      "problem": r.problem} for r in results],
        }
        if self.plan.variations is not None:  # those that never started included
            manifest["variations"] = self.plan.variations
        (self.plan.save_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def _complete_trace(trace: Trace, code: int | None, duration: float) -> None:
    """A run that exited 0 without the hook's last events: the script ended its own process
    (`os._exit`, common at the end of TF scripts that hang in shutdown), so the hook's exit-time
    work never ran. The runner writes the `exit` event it knows, marked as its own, so that the
    trace read later (`compare`, `--baseline`) tells the same story as this run's report."""
    record = {"kind": "exit", "key": "exit", "value": code, "site": None,
              "detail": {"duration_s": round(duration, 3), "written_by": "runner"}, "t": round(duration, 6)}
    _append(trace, [record])  # if it fails, a later compare calls the trace incomplete


def _record_outputs(trace: Trace, artifacts: list[Artifact]) -> list[Event]:
    """Fingerprint the run's --artifact files now that its process has ended, and append them to its
    trace (after the `exit` event). Not after a torn last line: the new lines would follow a broken one."""
    if not artifacts or trace.torn_tail:
        return []
    last = trace.events[-1].t if trace.events else 0.0
    return _append(trace, output_records(artifacts, t=last))


def _append(trace: Trace, records: list[dict[str, Any]]) -> list[Event]:
    """Append events the runner knows to a run's trace file and to the trace read from it."""
    try:
        with open(trace.path, "ab+") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell():  # a last line complete but without its newline: the next must not join it
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    handle.write(b"\n")
            for record in records:
                handle.write(encode_line(record))
    except OSError:
        return []  # the trace stays as the run left it
    events = [Event(**record) for record in records]
    trace.events.extend(events)
    return events


def _end_groups(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each run's process group, then SIGKILL what is left after a grace period; the
    script's own children may outlive the group leader, so the group is killed in any case. Every
    wait is bounded: a run that cannot be reaped (its waitpid lock lost to an interrupt) must not
    keep seedcheck from reporting."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = [p for p in processes if p.poll() is None]
        if not alive:
            break
        for process in alive:
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + KILL_GRACE_S
        for process in alive:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if process.poll() is None:
            try:
                process.wait(timeout=KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                pass


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
    for line in ANSI_ESCAPE.sub("", text).splitlines():  # Keras colours its errors: escapes would show as text
        if line.strip() and not TF_STARTUP_CHATTER.search(line):
            lines.append(line)
    return list(lines)


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# What TensorFlow prints to stderr on every start, whatever happens next: kept in the log, left out
# of a failed run's panel, where it would push the script's own error out of view.
TF_STARTUP_CHATTER = re.compile(
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"
    r"|^[IW]\d{4} [\d:.]+\s+\d+ (port|cpu_feature_guard|cuda_\w+|gpu_\w+)\.cc:\d+\]"
    r"|^To enable the following instructions: |^To turn them off, set the environment variable")
