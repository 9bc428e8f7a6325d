"""The terminal report (Rich): header, one row per stage and one column per run, the first
divergence with its likely cause and fix, failed runs, and the verdict line."""

from __future__ import annotations

import os
import re
import sysconfig
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from seedcheck.compare import (CLOSE, DIFFERS, DIVERGED, IGNORED, MISSING, REPRODUCIBLE, SEED_INSENSITIVE, UNCHECKED,
                               Comparison, RunResult, Stage)
from seedcheck.report.growth import divergence_growth, growth_story, sparkline
from seedcheck.report.labels import (between_text, env_value_text, folded_rows, header_line, header_parts, seed_name,
                                     short_site, site_names, site_text, stage_label, summary_line, value_text,
                                     verdict_text)

VERDICT_STYLES = {REPRODUCIBLE: "green", DIVERGED: "bold red", MISSING: "magenta", SEED_INSENSITIVE: "yellow",
                  UNCHECKED: "dim", CLOSE: "cyan", IGNORED: "dim", DIFFERS: "yellow"}
TONE_STYLES = {"ok": "bold green", "warn": "bold yellow", "bad": "bold red"}


def render(comparison: Comparison, console: Console, target: str, save_dir: str | None = None) -> None:
    for line in header_lines(comparison, target, console.width):
        console.print(Text(line, style="bold"))
    console.print(stage_table(comparison, width=console.width))
    for renderable in _after_table(comparison, save_dir):
        console.print(renderable)


def header_lines(comparison: Comparison, target: str, width: int) -> list[str]:
    """The header cut into lines of `width` between its parts, so a narrow terminal does not wrap it
    inside one ("TF" on one line, "2.21.0" on the next). A part longer than a line is left whole
    for the console to wrap."""
    lines: list[str] = []
    for part in header_parts(comparison, target):
        if lines and cell_len(lines[-1]) + 3 + cell_len(part) <= width:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return lines


def stage_table(comparison: Comparison, width: int | None = None) -> Table:
    """One row per stage, one column per run. On a terminal too narrow for everything, the site
    column goes first, then verdicts shorten to their first word, then the run columns give way to
    a count of distinct values: the stage and its verdict always stay readable."""
    names = [run.name for run in comparison.runs if run.trace is not None]
    first = comparison.first_divergence.stage if comparison.first_divergence else None
    sites = site_names(comparison.stages)
    rows = []
    for row in folded_rows(comparison.stages):
        if isinstance(row, str):
            rows.append((Text("init", style="dim"), Text(row, style="dim"), Text(""), *[Text("")] * len(names),
                         Text("reproducible", style=VERDICT_STYLES[REPRODUCIBLE]), None))
            continue
        kind, description = stage_label(row)
        marker = Text(FIRST_MARKER, style="bold red") if row is first else Text("")
        rows.append((Text(kind), Text(description) + marker, Text(site_text(row, sites)),
                     *_value_cells(row, names), Text(verdict_text(row), style=_verdict_style(row)), row))
    layout = _layout(rows, names, width)
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("stage", no_wrap=True, min_width=max([5] + [row[0].cell_len for row in rows]))
    table.add_column("", no_wrap=True, overflow="ellipsis", min_width=min(12, layout.description),
                     max_width=layout.description)
    if layout.site:
        table.add_column("site", no_wrap=True, overflow="ellipsis", style="dim")
    if layout.values:
        for index, name in enumerate(names, start=3):
            table.add_column(name, no_wrap=True, min_width=max([len(name)] + [r[index].cell_len for r in rows]))
    else:
        table.add_column(f"{len(names)} runs", no_wrap=True, min_width=max(len(f"{len(names)} runs"), 9))
    verdict_width = max([7] + [len(row[-2].plain.split(" (")[0] if layout.short_verdicts else row[-2].plain)
                               for row in rows])
    table.add_column("verdict", no_wrap=True, min_width=verdict_width)
    descriptions = _fitted_apart([row[1] for row in rows], layout.description)
    for row, description in zip(rows, descriptions):
        stage = row[-1]
        cells = [row[0], description]
        if layout.site:
            cells.append(row[2])
        if layout.values:
            cells.extend(row[3:-2])
        else:
            cells.append(Text(_distinct_summary(stage, len(names)) if stage is not None else ""))
        verdict = row[-2]
        if layout.short_verdicts and stage is not None:
            verdict = Text(verdict.plain.split(" (")[0], style=verdict.style)
        cells.append(verdict)
        table.add_row(*cells)
    return table


FIRST_MARKER = " ◀ first"


def _name_and_marker(plain: str) -> tuple[str, str]:
    """A row's stage name and its first-divergence marker (FIRST_MARKER, or "")."""
    return (plain[:-len(FIRST_MARKER)], FIRST_MARKER) if plain.endswith(FIRST_MARKER) else (plain, "")


def _fitted(description: Text, width: int) -> Text:
    """A stage name cut to `width` cells in the middle, so its last part (`…/kernel`, `…/bias`)
    and the first-divergence marker stay: cut at the end, two rows of one layer read the same."""
    plain = description.plain
    name, marker = _name_and_marker(plain)
    if cell_len(plain) <= width:
        return description
    if marker and cell_len(name) > width - cell_len(marker):
        marker = " ◀"  # the name is cut anyway: the arrow alone leaves it more room
    room = max(width - cell_len(marker), 4)
    if cell_len(name) > room:
        parts = name.split("/")
        tails = ["/" + "/".join(parts[-2:]), "/" + parts[-1]] if len(parts) > 2 else ["/" + parts[-1]] if len(parts) == 2 else []
        if " · " in name:  # `keras.random.SeedGenerator · dropout`: the layer is the part that tells rows apart
            tails.append(" · " + name.rsplit(" · ", 1)[1])
        tail = next((t for t in tails if cell_len(t) + 4 <= room), None)  # keep at least 3 cells of the head
        name = _head(name, room - cell_len(tail) - 1) + "…" + tail if tail else _head(name, room - 1) + "…"
    fitted = Text(name, style=description.style)
    return fitted + Text(marker, style="bold red") if marker else fitted


def _fitted_apart(descriptions: list[Text], width: int) -> list[Text]:
    """`_fitted` for every row, then for names that came out alike though they differ (`seq/d0/kernel`
    and `seq/d1/kernel` both `seq/…/kernel`), the cut that keeps the most of their end, and failing
    that the start: the rows must stay told apart."""
    fitted = [_fitted(description, width) for description in descriptions]
    for cut in (_end_kept, _start_kept):
        seen: dict[str, set[str]] = {}
        for original, short in zip(descriptions, fitted):
            seen.setdefault(short.plain, set()).add(original.plain)
        clashing = {short for short, originals in seen.items() if len(originals) > 1}
        if not clashing:
            break
        fitted = [cut(original, width) if short.plain in clashing else short
                  for original, short in zip(descriptions, fitted)]
    return fitted


def _end_kept(description: Text, width: int) -> Text:
    """The first 3 cells, `…`, and as much of the end as fits (the marker as `_fitted` keeps it)."""
    name, marker = _name_and_marker(description.plain)
    marker = " ◀" if marker else ""
    room = max(width - cell_len(marker), 5)
    tail = "".join(reversed(_head("".join(reversed(name)), room - 4)))
    fitted = Text(_head(name, 3) + "…" + tail, style=description.style)
    return fitted + Text(marker, style="bold red") if marker else fitted


def _start_kept(description: Text, width: int) -> Text:
    """Cut at the end, as Rich would."""
    plain = description.plain
    return Text(_head(plain, width - 1) + "…", style=description.style) if cell_len(plain) > width else description


def _head(text: str, cells: int) -> str:
    """The longest start of `text` that takes at most `cells` terminal cells (a CJK character takes two)."""
    taken = 0
    for index, character in enumerate(text):
        taken += cell_len(character)
        if taken > cells:
            return text[:index]
    return text


@dataclass
class _Layout:
    site: bool = True
    values: bool = True
    short_verdicts: bool = False
    description: int = 1000


def _layout(rows: list[tuple], names: list[str], width: int | None) -> _Layout:
    if width is None:
        return _Layout()

    def widest(index: int) -> int:
        return max([cell.cell_len for cell in (row[index] for row in rows)] + [0])

    gap = 2  # Rich's padding between columns of a box-less table
    kind = max(widest(0), 5)
    values = sum(max([len(name), widest(index)]) for index, name in enumerate(names, start=3)) + gap * len(names)
    verdicts = max(widest(len(names) + 3), 7)
    short = max([len(row[-2].plain.split(" (")[0]) for row in rows] + [7])
    site = max(widest(2), len("site")) + gap  # the header is as wide as a short site

    def room(with_site: bool, with_values: bool, verdict_width: int) -> int:
        used = kind + gap + (site if with_site else 0) + (values if with_values else 9 + gap)
        return width - used - gap - verdict_width

    for candidate in (_Layout(), _Layout(site=False), _Layout(site=False, short_verdicts=True),
                      _Layout(site=False, values=False, short_verdicts=True)):
        space = room(candidate.site, candidate.values, short if candidate.short_verdicts else verdicts)
        if space >= 24 or not candidate.values:
            candidate.description = max(space, 8)
            return candidate
    return _Layout()


def _distinct_summary(stage: Stage, runs: int) -> str:
    if stage.verdict != DIVERGED and len(stage.values) < runs:
        return f"{len(stage.values)} of {runs}"
    # Across every run: one value per seed (reproducible by seed, unchecked) is not "same".
    distinct = stage.distinct_in_row
    return "same" if distinct == 1 else f"{distinct} values"


def _verdict_style(stage: Stage) -> str:
    if stage.verdict == SEED_INSENSITIVE and stage.kind not in ("weights", "data"):
        return "dim"  # a single draw or call: the warning is said of the weights it reaches
    if (stage.verdict == MISSING and not stage.fails) or (stage.verdict == REPRODUCIBLE and stage.unseeded_call) \
            or stage.superseded:
        return "yellow"
    return VERDICT_STYLES.get(stage.verdict, "")


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
    out: list[Any] = growth_lines(comparison)
    divergence = comparison.first_divergence
    if divergence is not None:
        kind, description = stage_label(divergence.stage)
        where = f" ({divergence.stage.where})" if divergence.stage.where else ""
        lines = [Text.assemble(("First divergence: ", "bold"),
                               f"{kind} {description}{where} — {divergence.explanation}")]
        between = between_text(divergence)
        if between:
            lines.append(Text(f"  {between}", style="dim"))
        if divergence.cause:
            lines.append(Text.assemble(("Likely cause: ", "bold"), divergence.cause))
        if divergence.fix:
            lines.append(Text.assemble(("Fix: ", "bold green"), divergence.fix))
        out.append(Panel(Group(*lines), border_style="red", expand=False))
    if comparison.env_differences:
        out.append(Text("Environment differences (context for a divergence, not part of the verdict):",
                        style="bold yellow"))
        out.append(env_table(comparison))
    for warning in comparison.warnings:
        out.append(Text.assemble(("Warning: ", "bold yellow"), warning))
    for note in comparison.notes:
        out.append(Text.assemble(("seedcheck could not record everything: ", "yellow"), note))
    failed = comparison.failed_runs
    if failed:
        out.append(_failed_runs(failed))
    if comparison.variations is not None:
        out.extend(variation_lines(comparison))
    out.append(verdict_line(comparison))
    if save_dir:
        out.append(Text(f"traces and logs: {save_dir}", style="dim"))
    return out


def variation_lines(comparison: Comparison) -> list[Any]:
    """`seedcheck vary`: one row per variation (the control pair first) with the first stage where
    its run differs from the control, then the fix for each cause (the verdict line follows)."""
    control, results = comparison.variations
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold", title_justify="left")
    outcomes = (control, *results)
    # On a narrow terminal the description gives way first: names and verdicts are kept whole.
    table.add_column("variation", no_wrap=True, min_width=max(len(o.name) for o in outcomes))
    table.add_column("varies", no_wrap=True, overflow="ellipsis", max_width=52)  # in full: README, JSON
    table.add_column("verdict", no_wrap=True, min_width=max(len(o.verdict) for o in outcomes))
    table.add_column("first differs from the control at", overflow="fold")
    styles = {"reproducible": "green", "diverged": "bold red", "inconclusive": "yellow", "failed": "bold red",
              "not run": "dim"}
    for outcome in outcomes:
        verdict = "DIVERGED" if outcome.verdict == "diverged" else outcome.verdict
        table.add_row(Text(outcome.name), Text(outcome.aspect, style="dim"),
                      Text(verdict, style=styles[outcome.verdict]), Text(outcome.where or "—"))  # Text: never markup
    lines: list[Any] = [Text("Variations (each run against control#1):", style="bold"), table]
    for outcome in results:
        if outcome.verdict == "diverged" and outcome.fix:
            lines.append(Text.assemble((f"Fix ({outcome.name}): ", "bold green"), outcome.fix))
    return lines


def growth_lines(comparison: Comparison) -> list[Text]:
    """The divergence growth as one sparkline per seed, under the table: shown when runs of a
    seed came apart at some weight checkpoint (all `·` would only repeat the table's verdicts)."""
    points = divergence_growth(comparison)
    if not any(value for point in points for value in point.by_seed.values()):
        return []
    lines = [Text.assemble(("Divergence growth", "bold"),
                           (" (largest relative weight difference between runs of a seed, per checkpoint; "
                            "▁ 1e-12 … █ 1, · identical)", "dim"))]
    for seed in points[0].by_seed:
        values = [point.by_seed.get(seed) for point in points]
        story = growth_story(points, values)
        if story is None:
            continue
        lines.append(Text.assemble(f"  {seed_name(seed):<11} ", (sparkline(values), "bold red" if any(values) else "green"),
                                   f"  {story}"))
    return lines


def _failed_runs(failed: list[RunResult]) -> Panel:
    """Each failed run's problem and the end of its error; runs that failed alike (the same problem,
    the same excerpt) share one entry."""
    grouped: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for run in failed:
        grouped.setdefault((run.problem or run.status, tuple(error_excerpt(run.stderr_tail))), []).append(run.name)
    lines = []
    for (problem, excerpt), names in grouped.items():
        lines.append(Text.assemble((f"{', '.join(names)}: ", "bold"), problem))
        lines.extend(Text(f"    {line}", style="dim") for line in excerpt)
    return Panel(Group(*lines), title="runs that did not finish cleanly", border_style="red", expand=False)


def error_excerpt(tail: list[str], keep: int = 6) -> list[str]:
    """The last `keep` lines of a failed run's stderr; when a traceback's innermost frame in the
    user's own code lies above them (a library's frames below it), that frame and its line first:
    where the script failed, which a library's last frames would push out of view."""
    last = tail[-keep:]
    own = [index for index, line in enumerate(tail[:-keep]) if _own_frame(line)]
    if not own:
        return last
    start = own[-1]
    if start >= len(tail) - keep - 2:  # joins the last lines: shown from it on, nothing left out
        return tail[start:]
    frame = tail[start:start + 2] if not _frame(tail[start + 1]) else tail[start:start + 1]
    return [*frame, "…", *last]


_FRAME = re.compile(r'^\s*File "([^"]+)", line \d+')
_LIBRARY_PARTS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")


def _frame(line: str) -> bool:
    return _FRAME.match(line) is not None


def _own_frame(line: str) -> bool:
    """A traceback's frame line in the user's code: not an installed package's, not Python's own."""
    found = _FRAME.match(line)
    if found is None:
        return False
    path = found.group(1)
    return not (path.startswith("<") or any(part in path for part in _LIBRARY_PARTS)
                or path.startswith(_STDLIB))


_STDLIB = sysconfig.get_paths()["stdlib"] + os.sep


def env_table(comparison: Comparison) -> Table:
    """The environment fields that differ between runs: context for a divergence, not a verdict."""
    names = [run.name for run in comparison.runs if run.trace is not None]
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("field", no_wrap=True)
    for name in names:
        table.add_column(name, overflow="fold")
    for difference in comparison.env_differences:
        reference = difference.values.get(names[0])
        cells = [Text(env_value_text(difference.values.get(name)),
                      style="yellow" if difference.values.get(name) != reference else "") for name in names]
        table.add_row(difference.label, *cells)
    return table


def verdict_line(comparison: Comparison) -> Text:
    sentence, tone = summary_line(comparison)
    return Text(sentence, style=TONE_STYLES[tone])


__all__ = ["render", "header_line", "stage_table", "verdict_line", "env_table", "short_site"]
