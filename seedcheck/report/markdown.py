"""The Markdown report: for a pull-request comment or a GitHub Actions job summary.

The verdict, the first divergence with its cause and fix come first (what a reviewer reads); the
stages that did not agree follow; the full table is folded into a <details> block.
"""

from __future__ import annotations

import re

from seedcheck.compare import REPRODUCIBLE, Comparison, Stage
from seedcheck.report.terminal import visible_controls
from seedcheck.report.labels import (between_text, env_value_text, folded_rows, header_line, site_names, site_text,
                                     stage_label, summary_line, value_text, verdict_text)


def render(comparison: Comparison, target: str) -> str:
    sentence, tone = summary_line(comparison)
    icon = {"ok": "✅", "warn": "⚠️", "bad": "❌"}[tone]
    lines = [f"### {icon} seedcheck: {_escape(sentence.lstrip('✔✘ '))}", "", f"_{_escape(header_line(comparison, target))}_", ""]
    if comparison.variations is not None:
        control, results = comparison.variations
        lines += ["| variation | varies | verdict | first differs from the control at | fix |", "|---|---|---|---|---|"]
        for o in (control, *results):
            lines.append(f"| {o.name} | {_escape(o.aspect)} | {o.verdict} | {_escape(o.where or '')} | "
                         f"{_escape(o.fix or '') if o.verdict == 'diverged' else ''} |")
        lines.append("")
    divergence = comparison.first_divergence
    if divergence is not None:
        kind, description = stage_label(divergence.stage)
        where = f" at `{divergence.stage.where}`" if divergence.stage.where else ""
        pair = between_text(divergence)
        between = f" ({_escape(pair)})" if pair else ""
        lines.append(f"**First divergence:** {kind} `{description}`{where}: {_escape(divergence.explanation)}{between}")
        if divergence.cause:
            lines += ["", f"**Likely cause:** {_escape(divergence.cause)}"]
        if divergence.fix:
            lines += ["", f"**Fix:** {_escape(divergence.fix)}"]
        lines.append("")
    for run in comparison.failed_runs:
        lines.append(f"- run **{_escape(run.name)}** {run.status}: {_escape(run.problem or '')}")
    if comparison.failed_runs:
        lines.append("")
    names = [run.name for run in comparison.runs if run.trace is not None]
    # Expected, not notable: env rows, and an exit code the same for every seed. A seeding call or a
    # draw the same for every seed stays: the given seeds never reach the script (a hard-coded seed).
    notable = [stage for stage in comparison.stages if stage.verdict != REPRODUCIBLE and stage.kind != "env"
               and not (stage.kind == "exit" and stage.distinct_in_row == 1)]
    if notable:
        lines += [f"Stages that are not plainly reproducible ({len(notable)}):", ""]  # the headline gives the total
        lines += _table(notable, names)
        lines.append("")
    if comparison.env_differences:
        lines += ["Environment differences (context, not a verdict):", "",
                  "| field | " + " | ".join(map(_escape, names)) + " |", "|---|" + "---|" * len(names)]
        for difference in comparison.env_differences:
            cells = [_escape(env_value_text(difference.values.get(name))) for name in names]
            lines.append(f"| {_escape(difference.label)} | " + " | ".join(cells) + " |")
        lines.append("")
    for warning in comparison.warnings:
        lines += [f"> **Warning:** {_escape(warning)}", ""]
    lines += ["<details><summary>All stages</summary>", "", *_table(folded_rows(comparison.stages), names), "",
              "</details>", ""]
    return visible_controls("\n".join(lines))  # a trace's escape sequences must not reach a terminal


def _table(rows: list[Stage | str], names: list[str]) -> list[str]:
    out = ["| stage | site | " + " | ".join(map(_escape, names)) + " | verdict |", "|---|---|" + "---|" * len(names) + "---|"]
    sites = site_names([row for row in rows if not isinstance(row, str)])
    for row in rows:
        if isinstance(row, str):
            out.append(f"| init {_escape(row)} | | " + " | ".join("" for _ in names) + " | reproducible |")
            continue
        kind, description = stage_label(row)
        shown = site_text(row, sites)
        site = _code_cell(shown) if shown else ""
        cells = [_escape(value_text(row.values[name], width=10, precise=True)) if name in row.values else "—"
                 for name in names]
        out.append(f"| {kind} {_escape(description)} | {site} | " + " | ".join(cells) + f" | {_escape(verdict_text(row))} |")
    return out


def _code_cell(text: str) -> str:
    r"""Code in a table cell: GitHub splits cells at a `|` even inside backticks unless it is
    written `\|` (its table parser takes the backslash off first); `<` needs nothing in a code span.
    The fence is one backtick longer than the longest run of them in the text (CommonMark)."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def _escape(text: str) -> str:
    """Table cells and emphasis: a `|` would end a cell, `<` start an HTML tag."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")
