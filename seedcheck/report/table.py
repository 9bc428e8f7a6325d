"""The terminal report (Rich): header, one row per stage and one column per run, the first
divergence with its likely cause and fix, failed runs, and the verdict line."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from seedcheck.compare import (DIVERGED, MISSING, REPRODUCIBLE, SEED_INSENSITIVE, UNCHECKED, Comparison,
                               RunResult, Stage)
from seedcheck.report.labels import short_site, stage_label, value_text, verdict_text

VERDICT_STYLES = {REPRODUCIBLE: "green", DIVERGED: "bold red", MISSING: "magenta", SEED_INSENSITIVE: "yellow",
                  UNCHECKED: "dim"}
FOLD_AT = 6  # consecutive init rows of one verdict beyond this fold into one summary row


def header_line(comparison: Comparison, target: str) -> str:
    runs = comparison.runs
    per_seed = []
    for seed, group in groupby(runs, key=lambda run: run.seed):
        count = len(list(group))
        per_seed.append(f"{'own seeding' if seed is None else f'seed {seed}'} ×{count}")
    parts = [f"seedcheck · {target} · {len(runs)} runs ({', '.join(per_seed)})"]
    tf_env = comparison.env_value("env/tensorflow") or {}
    if tf_env.get("tensorflow"):
        parts.append(f"TF {tf_env['tensorflow']}")
    if tf_env.get("keras"):
        parts.append(f"Keras {tf_env['keras']}")
    if comparison.reference is not None and comparison.reference.trace is not None and not tf_env:
        exit_event = comparison.reference.trace.find("exit")
        if exit_event and not (exit_event.detail or {}).get("tensorflow_used", True):
            parts.append("TensorFlow not used")
    return " · ".join(parts)


def render(comparison: Comparison, console: Console, target: str, save_dir: str | None = None) -> None:
    console.print(Text(header_line(comparison, target), style="bold"))
    console.print(stage_table(comparison))
    for renderable in _after_table(comparison, save_dir):
        console.print(renderable)


def stage_table(comparison: Comparison) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("stage", no_wrap=True)
    table.add_column("", no_wrap=True, overflow="ellipsis", min_width=12)
    table.add_column("site", no_wrap=True, overflow="ellipsis", style="dim")
    names = [run.name for run in comparison.runs if run.trace is not None]
    first = comparison.first_divergence.stage if comparison.first_divergence else None
    rows = []
    for row in _rows(comparison.stages):
        if isinstance(row, str):
            rows.append((Text("init", style="dim"), Text(row, style="dim"), "", *[Text("")] * len(names),
                         Text("reproducible", style=VERDICT_STYLES[REPRODUCIBLE])))
            continue
        kind, description = stage_label(row)
        marker = Text(" ◀ first", style="bold red") if row is first else Text("")
        rows.append((kind, Text(description) + marker, short_site(row.site) if row.site else "",
                     *_value_cells(row, names), Text(verdict_text(row), style=_verdict_style(row))))
    # Values and verdicts are never cut; the description and site give way on a narrow terminal.
    for index, name in enumerate(names, start=3):
        table.add_column(name, no_wrap=True, min_width=max([len(name)] + [r[index].cell_len for r in rows]))
    table.add_column("verdict", no_wrap=True, min_width=max([7] + [r[-1].cell_len for r in rows]))
    for row in rows:
        table.add_row(*row)
    return table


def _verdict_style(stage: Stage) -> str:
    if stage.verdict == SEED_INSENSITIVE and stage.kind not in ("weights", "data"):
        return "dim"  # expected of env, exit, a zero-initialized bias: not a warning
    return VERDICT_STYLES.get(stage.verdict, "")


def _rows(stages: list[Stage]) -> list[Stage | str]:
    """The stages in order, with long runs of reproducible init rows folded into one line."""
    rows: list[Stage | str] = []
    for (kind, verdict), group in groupby(stages, key=lambda s: (s.kind, s.verdict)):
        block = list(group)
        if kind == "init" and verdict == REPRODUCIBLE and len(block) > FOLD_AT:
            rows.extend(block[:2])
            rows.append(f"… {len(block) - 2} more variables, all reproducible")
        else:
            rows.extend(block)
    return rows


def _value_cells(stage: Stage, names: list[str]) -> list[Text]:
    values = [stage.values.get(name, _ABSENT) for name in names]
    width = _distinguishing_width([v for v in values if isinstance(v, str)])
    reference = next((v for v in values if v is not _ABSENT), None)
    cells = []
    for value in values:
        if value is _ABSENT:
            cells.append(Text("—", style="magenta"))
            continue
        text = value_text(value, width=width, precise=stage.verdict == DIVERGED)
        differs = stage.verdict == DIVERGED and value != reference
        cells.append(Text(text, style="red" if differs else ""))
    return cells


_ABSENT: Any = object()


def _distinguishing_width(values: list[str]) -> int:
    """Short fingerprints, but long enough that different values never look the same."""
    distinct = set(values)
    for width in (4, 6, 8, 12, 16, 32):
        if len({v[:width] for v in distinct}) == len(distinct):
            return width + 2  # room for the ellipsis
    return 34


def _after_table(comparison: Comparison, save_dir: str | None) -> list[Any]:
    out: list[Any] = []
    divergence = comparison.first_divergence
    if divergence is not None:
        kind, description = stage_label(divergence.stage)
        where = f" ({divergence.stage.site})" if divergence.stage.site else ""
        lines = [Text.assemble(("First divergence: ", "bold"),
                               f"{kind} {description}{where} — {divergence.explanation}")]
        lines.append(Text(f"  between {divergence.runs[0]} and {divergence.runs[1]}", style="dim"))
        if divergence.cause:
            lines.append(Text.assemble(("Likely cause: ", "bold"), divergence.cause))
        if divergence.fix:
            lines.append(Text.assemble(("Fix: ", "bold green"), divergence.fix))
        out.append(Panel(Group(*lines), border_style="red", expand=False))
    for warning in comparison.warnings:
        out.append(Text.assemble(("Warning: ", "bold yellow"), warning))
    for note in comparison.notes:
        out.append(Text.assemble(("seedcheck could not record everything: ", "yellow"), note))
    failed = comparison.failed_runs
    if failed:
        out.append(_failed_runs(failed))
    out.append(verdict_line(comparison))
    if save_dir:
        out.append(Text(f"traces and logs: {save_dir}", style="dim"))
    return out


def _failed_runs(failed: list[RunResult]) -> Panel:
    lines = []
    for run in failed:
        lines.append(Text.assemble((f"{run.name}: ", "bold"), run.problem or run.status))
        for line in run.stderr_tail[-6:]:
            lines.append(Text(f"    {line}", style="dim"))
    return Panel(Group(*lines), title="runs that did not finish cleanly", border_style="red", expand=False)


def verdict_line(comparison: Comparison) -> Text:
    stages = comparison.stages
    diverged = sum(s.verdict in (DIVERGED, MISSING) for s in stages)
    runs = len([r for r in comparison.runs if r.trace is not None])
    if comparison.interrupted:
        return Text(f"Interrupted: partial report of {runs} runs.", style="bold yellow")
    if comparison.verdict == "failed":
        return Text(f"✘ {len(comparison.failed_runs)} of {len(comparison.runs)} runs failed; "
                    f"{diverged} of {len(stages)} stages diverged or missing.", style="bold red")
    if comparison.verdict == "diverged":
        return Text(f"✘ Not reproducible: {diverged} of {len(stages)} stages diverged across {runs} runs.",
                    style="bold red")
    if stages and all(s.verdict == UNCHECKED for s in stages):
        return Text("One run per seed: nothing to compare yet (use --repeats 2 or more).", style="yellow")
    return Text(f"✔ Reproducible: all {len(stages)} stages agree across {runs} runs.", style="bold green")


__all__ = ["render", "header_line", "stage_table", "verdict_line", "short_site"]
