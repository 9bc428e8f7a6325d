"""How stages and values read in a report: shared by the table and text reporters."""

from __future__ import annotations

import json
from typing import Any

from seedcheck.fingerprint import bytes_fingerprint
from seedcheck.compare import DIVERGED, MISSING, SEED_INSENSITIVE, UNCHECKED, Stage

KIND_LABELS = {"seed": "seeding", "init": "init", "weights": "weights", "data": "data", "metrics": "metrics",
               "env": "env", "exit": "exit", "shuffle": "shuffle", "rng": "random", "output": "output"}


def stage_label(stage: Stage) -> tuple[str, str]:
    """(kind column, description) for a stage key such as `metrics/fit#1/epoch-2/loss` or
    `shuffle/tf.random.shuffle@train.py:14#2` (the site has its own column, so it is left out)."""
    kind = KIND_LABELS.get(stage.kind, stage.kind)
    rest = stage.key.partition("/")[2]
    if stage.site:
        rest = rest.replace(f"@{stage.site}", "")
    if stage.kind == "env":
        return kind, rest or "process"
    if stage.kind == "exit":
        return kind, "exit code"
    if stage.kind == "output":
        return kind, rest
    if stage.kind in ("seed", "init", "shuffle", "rng"):
        return kind, _drop_first_occurrence(rest)
    parts = rest.split("/")
    parts[-1] = _drop_first_occurrence(parts[-1])
    return kind, " ".join(p.replace("epoch-", "epoch ").replace("pass-", "pass ") for p in parts)


def _drop_first_occurrence(part: str) -> str:
    """`set_seed#1` reads `set_seed`; `set_seed#2` keeps its number (the site tells them apart too)."""
    name, _, number = part.rpartition("#")
    if not name or not number.isdigit():
        return part
    return name if number == "1" else f"{name} #{number}"


def short_site(site: str) -> str:
    """`sample_scripts/train.py:12` -> `train.py:12`; the full site stays in JSON."""
    return site.rsplit("/", 1)[-1]


def verdict_text(stage: Stage) -> str:
    if stage.verdict == DIVERGED:
        if stage.max_delta is not None:
            return f"DIVERGED (max Δ {stage.max_delta:.2g})"
        return f"DIVERGED ({stage.distinct} values)"
    if stage.verdict == MISSING:
        return "missing"
    if stage.verdict == SEED_INSENSITIVE:
        return "seed-insensitive"
    if stage.verdict == UNCHECKED:
        return "unchecked (1 run)"
    return "reproducible (by seed)" if stage.seed_sensitive else "reproducible"


def value_text(value: Any, width: int = 6, precise: bool = False) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.7g}" if precise else f"{value:.5g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value if len(value) <= width else value[:width - 2] + "…"
    text = json.dumps(value, sort_keys=True)
    return "{" + bytes_fingerprint(text.encode())[:width - 3] + "…}"
