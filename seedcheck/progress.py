"""The live view of runs while they execute: each run's state and elapsed time (Rich, on stderr)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from seedcheck.compare import RunResult
from seedcheck.runner import RunSpec

STATUS_STYLES = {"ok": "green", "failed": "red", "timeout": "red", "interrupted": "yellow", "stopped": "yellow",
                 "skipped": "dim"}


class LiveProgress:
    def __init__(self, console: Console, specs: list[RunSpec]) -> None:
        self._progress = Progress(
            SpinnerColumn(finished_text="•"),
            TextColumn("{task.fields[run]:<10}"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {
            spec.name: self._progress.add_task("[dim]waiting", run=spec.name, total=1, start=False)
            for spec in specs
        }

    def __enter__(self) -> "LiveProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def started(self, spec: RunSpec) -> None:
        task = self._tasks[spec.name]
        self._progress.start_task(task)
        self._progress.update(task, description="running")

    def finished(self, spec: RunSpec, result: RunResult) -> None:
        style = STATUS_STYLES.get(result.status, "")
        problem = result.problem if result.problem not in (None, "", result.status) else None
        if problem is not None and result.status == "skipped":
            problem = problem.removeprefix("not run: ")
        if result.status == "ok" or problem is None:
            text = result.status
        elif problem.startswith(result.status):  # "stopped by --fail-fast: …", not "stopped: stopped by …"
            text = problem
        else:
            text = f"{result.status}: {problem}"
        task = self._tasks[spec.name]
        self._progress.start_task(task)  # a run never started (skipped) ends with • too, not a spinner
        self._progress.update(task, description=f"[{style}]{text}", completed=1)
        self._progress.stop_task(task)
