"""`seedcheck show`: one trace's events in order, as a person reads them.

The stage keys it prints are the ones `--ignore` patterns and the JSON report use.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from seedcheck.report.labels import KIND_LABELS, short_site, value_text
from seedcheck.trace import Event, Trace


def render(trace: Trace, console: Console, kinds: tuple[str, ...] = (), full: bool = False) -> None:
    header = trace.header
    seed = header.get("seed")
    facts = [f"run {trace.run}", "own seeding" if seed is None else f"seed {seed}",
             f"started {header.get('started', '?')}", f"seedcheck {header.get('seedcheck', '?')}",
             f"trace format {header.get('seedcheck_trace')}"]
    console.print(Text(f"{trace.path} · {header.get('target', '?')}", style="bold"))
    console.print(Text(" · ".join(facts), style="dim"))
    command = header.get("command")
    if isinstance(command, list):
        console.print(Text("command: " + " ".join(map(str, command)), style="dim"))
    events = [event for event in trace.events if not kinds or event.kind in kinds]
    if full:
        for event in events:  # whole details do not fit a table cell: one block per event
            console.print(Text.assemble((f"{event.t:9.3f}  ", "dim"), (f"{event.kind:8} ", "bold"), event.key,
                                        (f"  {event.site}" if event.site else "", "dim")))
            whole = {"value": event.value, **({"detail": event.detail} if event.detail else {})}
            console.print(Text("           " + json.dumps(whole, sort_keys=True), style="dim"), soft_wrap=True)
    else:
        table, with_about = _table(events, console.width)
        console.print(table)
        if not with_about:
            console.print(Text("(the about column needs a wider terminal: --full shows every detail)", style="dim"))
    ending = _ending(trace)
    console.print(Text(f"{len(events)} of {len(trace.events)} events shown · {ending}",
                       style="yellow" if trace.torn_tail or trace.find("exit") is None else "dim"))


ABOUT_MIN = 24  # narrower, the `about` column is dropped (`--full` shows every detail)


def _table(events: list[Event], width: int) -> tuple[Table, bool]:
    """Keys whole on one line where the terminal allows (--ignore patterns are copied from them),
    folded only when a key alone cannot fit; the `about` column gives way first: dropped when it
    would be narrower than ABOUT_MIN (a cut `asked 12` reads as another number)."""
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("t (s)", justify="right", style="dim", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    fixed = max([5] + [len(f"{event.t:.3f}") for event in events]) + 8 + 14 + 3 * 2  # t, kind, value, their gaps
    longest = max([3] + [len(event.key) for event in events])
    with_about = width - fixed - longest - 2 * 2 >= ABOUT_MIN
    table.add_column("key", overflow="fold", min_width=max(12, min(longest, width - fixed - 2)))
    table.add_column("value", no_wrap=True)
    if with_about:
        table.add_column("about", style="dim", overflow="fold", min_width=ABOUT_MIN)
    for event in events:
        about = _detail_summary(event.kind, event.detail or {})
        if event.site and f"@{event.site}" not in event.key:
            about = f"{about} at {short_site(event.site)}" if about else f"at {short_site(event.site)}"
        cells = [f"{event.t:.3f}", KIND_LABELS.get(event.kind, event.kind), escape(event.key), _value(event.value)]
        table.add_row(*cells, *([about] if with_about else []))
    return table, with_about


def _value(value: Any) -> str:
    """Short enough to scan: a fingerprint's first 12 digits, a dict's size (`--full` shows all)."""
    if isinstance(value, dict):
        return f"{{{len(value)} fields}}"
    if isinstance(value, float):  # a metric: as the reports round it, not cut mid-digit
        return value_text(value, precise=True)
    text = json.dumps(value) if isinstance(value, list) else str(value)
    return text if len(text) <= 14 else text[:12] + "…"


def _detail_summary(kind: str, detail: dict[str, Any]) -> str:
    if kind == "seed":
        asked, applied = detail.get("asked"), detail.get("applied")
        return f"asked {asked}, applied {applied}" if asked != applied else ""
    if kind in ("weights",) and isinstance(detail.get("variables"), list):
        return f"{len(detail['variables'])} variables"
    if kind == "init":
        return f"{detail.get('dtype', '')}{detail.get('shape', '')} norm {detail.get('norm', 0):.6g}" \
            if isinstance(detail.get("norm"), (int, float)) else ""
    if kind == "data":
        return f"{detail.get('batches')} batches" if "batches" in detail else ""
    if kind in ("shuffle", "rng"):
        parts = []  # the key names the API already
        if detail.get("api") == "keras.random.SeedGenerator":  # its `unseeded` means "no seed= argument"
            parts.append(f"seed={detail['seed_arg']}" if detail.get("seed_arg") is not None
                         else "no seed= (its seed is drawn from Python's `random`: fixed once that is seeded)")
        elif detail.get("unseeded") or detail.get("seeded") is False:
            parts.append("UNSEEDED")
        if "count" in detail:
            parts.append(f"{detail['count']} calls")
        return " ".join(parts)
    return ""


def _ending(trace: Trace) -> str:
    exit_event = trace.find("exit")
    if trace.torn_tail:
        ending = "the last line was cut short: the run died while writing it"
    elif exit_event is None:
        ending = "no exit event: the run did not finish"
    else:
        ending = f"exit code {exit_event.value}"
    runner = _runner_account(trace)
    return f"{ending}; seedcheck run: {runner}" if runner else ending


def _runner_account(trace: Trace) -> str | None:
    """How the runner saw this run end, from the manifest beside the trace, where that differs from
    a clean exit: a run can write its exit event and still be killed while TensorFlow shuts down."""
    import json

    from seedcheck.runner import MANIFEST

    try:
        manifest = json.loads((trace.path.parent / MANIFEST).read_text(encoding="utf-8"))
        entry = next(e for e in manifest["runs"] if isinstance(e, dict) and e.get("trace") == trace.path.name)
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return None
    status = entry.get("status")
    if status in (None, "ok"):
        return None
    problem = entry.get("problem")
    return f"{status} ({problem})" if problem and problem != status else str(status)
