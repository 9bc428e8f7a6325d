"""The HTML report: one self-contained file that opens offline and shows how runs drift apart.

It holds what the terminal report holds (header, first divergence, stage table, failed runs,
warnings) and two kinds of picture the terminal cannot draw well: each run's per-epoch metrics
overlaid, coloured by seed (runs of a seed that agree draw one line), and the divergence growth on a
log scale. Pictures are inline SVG drawn by matplotlib (the optional `html` extra: the core install
stays small), with text as paths, so the page needs no font, script or network access.
"""

from __future__ import annotations

import html
import io
import math
import re
from typing import Any

from seedcheck import __version__
from seedcheck.compare import DIVERGED, Comparison, Stage, is_finite_number
from seedcheck.report.growth import Checkpoint, divergence_growth, growth_story, sparkline
from seedcheck.report.labels import (between_text, env_value_text, folded_rows, header_line, seed_name, site_names,
                                     site_text, stage_label, summary_line, value_text, verdict_text)

INSTALL_HINT = "pip install 'seedcheck[html]'"
IDENTICAL_FLOOR = 1e-18  # where identical checkpoints sit on the growth plot's log axis


class PlottingUnavailable(RuntimeError):
    """matplotlib is not installed: the HTML report cannot draw its pictures."""


def require_plotting() -> None:
    """Fail before any run starts (not after N training runs) when the report could not be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlottingUnavailable(f"--html needs matplotlib, the report's plotting library: {INSTALL_HINT}") from None


def render(comparison: Comparison, target: str) -> str:
    require_plotting()
    import matplotlib

    # Labels are run, metric and variable names: `$` in one must not be read as a formula; text as
    # paths: the page needs no font.
    with matplotlib.rc_context({"text.parse_math": False, "svg.fonttype": "path"}):
        return _page(comparison, target)


def _page(comparison: Comparison, target: str) -> str:
    sentence, tone = summary_line(comparison)
    points = divergence_growth(comparison)
    body = [
        f'<header class="{tone}"><h1>{_e(sentence)}</h1><p>{_e(header_line(comparison, target))}</p></header>',
        _variations(comparison),
        _first_divergence(comparison),
        _failed_runs(comparison),
        _messages(comparison),
        _growth_section(points),
        _metrics_section(comparison),
        _stage_table(comparison),
        _environment(comparison),
        f'<footer>seedcheck {_e(__version__)} · one file, no network needed</footer>',
    ]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>seedcheck: {_e(target)}</title><style>{STYLE}</style></head>\n<body>\n'
            + "\n".join(part for part in body if part) + "\n</body></html>\n")


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _first_divergence(comparison: Comparison) -> str:
    divergence = comparison.first_divergence
    if divergence is None:
        return ""
    kind, description = stage_label(divergence.stage)
    where = f" <code>{_e(divergence.stage.where)}</code>" if divergence.stage.where else ""
    between = between_text(divergence)
    parts = ['<section class="panel bad" id="first-divergence"><h2>First divergence</h2>',
             f"<p><b>{_e(kind)} {_e(description)}</b>{where} — {_e(divergence.explanation)}</p>",
             f'<p class="dim">{_e(between)}</p>' if between else ""]
    if divergence.cause:
        parts.append(f"<p><b>Likely cause:</b> {_e(divergence.cause)}</p>")
    if divergence.fix:
        parts.append(f'<p class="fix"><b>Fix:</b> {_e(divergence.fix)}</p>')
    return "".join(parts) + "</section>"


def _variations(comparison: Comparison) -> str:
    if comparison.variations is None:
        return ""
    control, results = comparison.variations
    rows = []
    for o in (control, *results):
        where = o.where or "—"
        fix = o.fix if o.verdict == "diverged" and o.fix else ""
        rows.append(f'<tr><td>{_e(o.name)}</td><td class="dim">{_e(o.aspect)}</td>'
                    f'<td class="v-{_e(o.verdict.replace(" ", "-"))}">{_e(o.verdict)}</td><td>{_e(where or "")}</td>'
                    f'<td class="fix">{_e(fix)}</td></tr>')
    return ('<section id="variations"><h2>Variations</h2><p class="dim">Each run against control#1.</p>'
            '<table class="stages"><thead><tr><th>variation</th><th>varies</th><th>verdict</th>'
            f'<th>first differs from the control at</th><th>fix</th></tr></thead><tbody>{"".join(rows)}</tbody>'
            '</table></section>')


def _failed_runs(comparison: Comparison) -> str:
    failed = comparison.failed_runs
    if not failed:
        return ""
    items = []
    for run in failed:
        tail = "\n".join(run.stderr_tail[-12:])
        items.append(f"<li><b>{_e(run.name)}</b>: {_e(run.problem or run.status)}"
                     + (f"<pre>{_e(tail)}</pre>" if tail else "") + "</li>")
    return f'<section class="panel bad"><h2>Runs that did not finish cleanly</h2><ul>{"".join(items)}</ul></section>'


def _messages(comparison: Comparison) -> str:
    items = [f'<li class="warn">Warning: {_e(w)}</li>' for w in comparison.warnings]
    items += [f'<li class="warn">seedcheck could not record everything: {_e(n)}</li>' for n in comparison.notes]
    return f'<section><ul class="messages">{"".join(items)}</ul></section>' if items else ""


# -- divergence growth ------------------------------------------------------------------------------

def _growth_section(points: list[Checkpoint]) -> str:
    intro = ('<h2>Divergence growth</h2><p class="dim">At each weight checkpoint, the largest relative '
             "difference between runs of one seed (from each variable's recorded L2 norm and strided "
             "sample; log scale). Identical runs sit on the bottom line.</p>")
    if not points:
        return (f'<section id="growth">{intro}<p>No seed has two runs with recorded weights: nothing to '
                "compare (run with --repeats 2 or more).</p></section>")
    rows = []
    for seed in points[0].by_seed:
        values = [point.by_seed.get(seed) for point in points]
        apart = any(values)
        story = growth_story(points, values, digits=2) or "not compared (one run)"
        rows.append(f"<tr><td>{_e(seed_name(seed))}</td><td class=\"spark{' apart' if apart else ''}\">"
                    f"{_e(sparkline(values))}</td><td>{_e(story)}</td></tr>")
    table = f'<table class="sparks">{"".join(rows)}</table>'
    return f'<section id="growth">{intro}{_growth_plot(points)}{table}</section>'


def _growth_plot(points: list[Checkpoint]) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter

    figure = Figure(figsize=(max(5.0, min(12.0, 1.0 + 0.55 * len(points))), 3.4), layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(points)))
    top = IDENTICAL_FLOOR
    for index, seed in enumerate(points[0].by_seed):
        ys = [point.by_seed.get(seed) for point in points]
        shown = [(x, max(y, IDENTICAL_FLOOR)) for x, y in zip(positions, ys) if y is not None]
        if not shown:
            continue
        top = max(top, *(y for _, y in shown))
        colour = f"C{index % 10}"
        axes.plot([x for x, _ in shown], [y for _, y in shown], "-o", color=colour, label=seed_name(seed),
                  markersize=4, linewidth=1.5)
    axes.set_yscale("log")
    axes.set_ylim(IDENTICAL_FLOOR / 3, max(1.0, top * 3))
    decades = range(int(math.log10(IDENTICAL_FLOOR)), int(math.ceil(math.log10(max(1.0, top * 3)))) + 1, 3)
    axes.yaxis.set_major_locator(FixedLocator([10.0 ** d for d in decades]))
    axes.yaxis.set_minor_locator(FixedLocator([]))
    axes.yaxis.set_major_formatter(FuncFormatter(
        lambda y, _: "identical" if y <= IDENTICAL_FLOOR * 1.01 else f"1e{round(math.log10(y))}"))
    axes.set_xticks(positions, [point.label for point in points], rotation=45 if len(points) > 6 else 0,
                    ha="right" if len(points) > 6 else "center", fontsize=8)
    axes.set_ylabel("relative difference")
    axes.grid(True, which="major", alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _svg(figure, "growth")


# -- metrics ------------------------------------------------------------------------------------------

METRIC_KEY = re.compile(r"^metrics/(?P<fit>[^/]+)/epoch-(?P<epoch>\d+)/(?P<name>.+)$")


def metric_curves(comparison: Comparison) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """{`loss` (or `fit#2 loss`): {run name: [(epoch, value), …]}} from the per-epoch metrics stages."""
    stages = [(METRIC_KEY.match(s.key), s) for s in comparison.stages if s.kind == "metrics"]
    fits = {match["fit"] for match, _ in stages if match}
    curves: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for match, stage in stages:
        if not match:
            continue
        title = match["name"] if len(fits) == 1 else f"{match['fit']} {match['name']}"
        for run, value in stage.values.items():
            if is_finite_number(value):
                curves.setdefault(title, {}).setdefault(run, []).append((int(match["epoch"]), float(value)))
    return curves


def _metrics_section(comparison: Comparison) -> str:
    curves = metric_curves(comparison)
    heading = ('<h2>Metrics per epoch</h2><p class="dim">Every run overlaid, one colour per seed, one line style '
               "per repeat: runs of a seed that agree draw a single line.</p>")
    if not curves:
        return (f'<section id="metrics">{heading}<p>No per-epoch metrics were recorded (Keras <code>fit</code> '
                "records its logs; a custom loop records weights only).</p></section>")
    seeds = {run.name: run.seed for run in comparison.runs}
    seed_order = list(dict.fromkeys(run.seed for run in comparison.runs))
    return f'<section id="metrics">{heading}{_metrics_plot(curves, seeds, seed_order)}</section>'


def _metrics_plot(curves: dict[str, dict[str, list[tuple[int, float]]]], seeds: dict[str, Any],
                  seed_order: list[Any]) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    columns = min(3, len(curves))
    rows = math.ceil(len(curves) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.0 * rows), layout="constrained")
    styles = ["-", "--", ":", "-."]
    for index, (title, by_run) in enumerate(curves.items(), start=1):
        axes = figure.add_subplot(rows, columns, index)
        repeat_of: dict[Any, int] = {}
        for run, points in by_run.items():
            seed = seeds.get(run)
            repeat = repeat_of[seed] = repeat_of.get(seed, -1) + 1
            points.sort()
            axes.plot([e for e, _ in points], [v for _, v in points], styles[repeat % len(styles)], marker="o",
                      markersize=3, color=f"C{seed_order.index(seed) % 10 if seed in seed_order else 0}",
                      label=run, linewidth=1.4, alpha=0.85)
        axes.set_title(title, fontsize=10)
        axes.set_xlabel("epoch", fontsize=8)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.tick_params(labelsize=8)
        axes.grid(True, alpha=0.3)
        if len(by_run) <= 8:
            axes.legend(fontsize=7)
    return _svg(figure, "metrics")


def _svg(figure: Any, salt: str) -> str:
    """The figure as inline SVG: text drawn as paths (no fonts to fetch), no date, ids salted per
    figure so that two plots in one page never share an element id."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"seedcheck-{salt}"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    # matplotlib numbers ids per figure (figure_1, glyph DejaVuSans-31): prefix them, and every
    # reference to them, so each id is unique in the page.
    text = re.sub(r'\bid="([^"]+)"', rf'id="{salt}-\1"', text)
    text = re.sub(r'((?:xlink:)?href="#|url\(#)([^")]+)', rf"\1{salt}-\2", text)
    return f'<figure class="plot">{text}</figure>'


# -- stage table and environment --------------------------------------------------------------------

def _stage_table(comparison: Comparison) -> str:
    names = [run.name for run in comparison.runs if run.trace is not None]
    first = comparison.first_divergence.stage if comparison.first_divergence else None
    head = "".join(f"<th>{_e(name)}</th>" for name in names)
    sites = site_names(comparison.stages)
    rows = []
    for row in folded_rows(comparison.stages):
        if isinstance(row, str):
            rows.append(f'<tr class="folded"><td>init</td><td colspan="{len(names) + 2}">{_e(row)}</td>'
                        '<td class="v-reproducible">reproducible</td></tr>')
            continue
        rows.append(_stage_row(row, names, row is first, sites))
    return (f'<section id="stages"><h2>Stages</h2><table class="stages"><thead><tr><th>stage</th><th></th>'
            f'<th>site</th>{head}<th>verdict</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>')


def _stage_row(stage: Stage, names: list[str], first: bool, sites: dict[str, str]) -> str:
    kind, description = stage_label(stage)
    marker = ' <span class="first">◀ first</span>' if first else ""
    shown = site_text(stage, sites)
    site = f'<td class="dim" title="{_e(stage.site or shown)}">{_e(shown)}</td>' if shown else "<td></td>"
    reference = stage.values.get(names[0]) if names else None
    cells = []
    for name in names:
        if name not in stage.values:
            cells.append('<td class="absent">—</td>')
            continue
        value = stage.values[name]
        differs = stage.verdict == DIVERGED and value != reference
        cells.append(f'<td class="value{" differs" if differs else ""}" title="{_e(value_text(value, width=80, precise=True))}">'
                     f"{_e(value_text(value, width=10, precise=True))}</td>")
    verdict_class = "v-" + stage.verdict.replace(" ", "-")
    row_class = ' class="first-row"' if first else ""
    return (f"<tr{row_class}><td>{_e(kind)}</td><td>{_e(description)}{marker}</td>{site}{''.join(cells)}"
            f'<td class="{verdict_class}">{_e(verdict_text(stage))}</td></tr>')


def _environment(comparison: Comparison) -> str:
    if not comparison.env_differences:
        return ""
    names = [run.name for run in comparison.runs if run.trace is not None]
    head = "".join(f"<th>{_e(n)}</th>" for n in names)
    rows = "".join(f"<tr><td>{_e(d.label)}</td>" + "".join(f"<td>{_e(env_value_text(d.values.get(n)))}</td>"
                                                             for n in names) + "</tr>"
                   for d in comparison.env_differences)
    return (f'<section><h2>Environment differences</h2><p class="dim">Context for a divergence, not part of the '
            f'verdict.</p><table class="stages"><thead><tr><th>field</th>{head}</tr></thead>{rows}</table></section>')


STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:1.5em;color:#1d1f23;background:#fff}
h1{font-size:1.35em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.4em 0 .4em}
header{border-left:6px solid #888;padding:.4em 1em;background:#f6f7f9}
header.ok{border-color:#1a7f37}header.bad{border-color:#cf222e}header.warn{border-color:#bf8700}
header p{margin:0;color:#57606a}
.panel{border:1px solid #d0d7de;border-radius:6px;padding:.2em 1em;margin-top:1em}
.panel.bad{border-color:#cf222e;background:#fff8f8}
.fix{color:#1a7f37}.dim{color:#57606a}.warn{color:#9a6700}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:12px}
code{font-size:.92em}
table.stages{border-collapse:collapse;font-size:12.5px;width:100%}
table.stages th,table.stages td{padding:.2em .6em;border-bottom:1px solid #eaeef2;text-align:left;white-space:nowrap}
table.stages th{position:sticky;top:0;background:#fff}
td.value{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
td.differs{color:#cf222e;font-weight:600}td.absent{color:#8c959f}
tr.first-row{background:#ffebe9}.first{color:#cf222e;font-weight:700}
.v-reproducible{color:#1a7f37}.v-diverged{color:#cf222e;font-weight:700}.v-missing{color:#8250df}.v-inconclusive{color:#9a6700}
.v-seed-insensitive,.v-differs{color:#9a6700}.v-close{color:#0969da}.v-unchecked,.v-ignored{color:#8c959f}
tr.folded td{color:#8c959f}
figure.plot{margin:.5em 0}figure.plot svg{max-width:100%;height:auto}
table.sparks td{padding:.1em .8em .1em 0}td.spark{font-size:1.3em;letter-spacing:1px;color:#1a7f37}td.spark.apart{color:#cf222e}
ul.messages{padding-left:1.2em}
footer{margin-top:2em;color:#8c959f;font-size:12px}
"""
