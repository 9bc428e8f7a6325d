"""Divergence growth: how far apart the runs of one seed are at each weight checkpoint.

A verdict says *that* runs differ; the growth says *how*: "apart from the first variable created
and growing" reads differently from "identical until epoch 3". Computed from what traces already
hold (each variable's L2 norm and its fixed strided sample), so it needs no extra capture.

For two runs at a checkpoint, each variable they share gives
    max(|‖a‖ − ‖b‖| / ‖b‖,  ‖sample(a) − sample(b)‖ / ‖sample(b)‖)
and the checkpoint's value for a seed is the largest over its variables and over the seed's runs
(each against the seed's first run). Equal fingerprints give exactly 0. Fingerprints that differ
where neither norm nor sample can tell (a change outside the sample, below float64 resolution of
the norm) give `UNRESOLVED`, so a real difference never reads as none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from seedcheck.compare import IGNORED, Comparison, Stage, is_finite_number

UNRESOLVED = 1e-16  # different fingerprints, no difference visible in norms or samples
ENTIRELY = 1.0  # a variable only one run has: as different as can be
SPARK_LEVELS = "▁▂▃▄▅▆▇█"
SPARK_DECADES = (-12.0, 0.0)  # log10 range the sparkline spans: 1e-12 (▁) to 1 (█)


@dataclass
class Checkpoint:
    """One point of the growth: a weights stage, or every variable's creation taken together."""

    key: str  # the stage key (`init/*` for the created variables)
    label: str  # short, for an axis: `created`, `init`, `epoch 2`, `step 25`, `final`
    by_seed: dict[Any, float | None] = field(default_factory=dict)  # None: fewer than two runs have it


def divergence_growth(comparison: Comparison) -> list[Checkpoint]:
    """The checkpoints in the order the runs reached them, each with its largest relative
    difference per seed. Empty when no seed has two runs or no weights were recorded."""
    seeds = _runs_by_seed(comparison)
    if not any(len(names) > 1 for names in seeds.values()):
        return []
    points: list[Checkpoint] = []
    # A stage the user ignores is left out: its growth would stand over a passing verdict.
    init_stages = [s for s in comparison.stages if s.kind == "init" and s.verdict != IGNORED]
    if init_stages:
        points.append(_merged_point("init/*", "created", init_stages, seeds))
    weights = [s for s in comparison.stages if s.kind == "weights" and s.verdict != IGNORED]
    several_fits = len({_fit_of(s.key) for s in weights if _fit_of(s.key)}) > 1
    for stage in weights:
        point = Checkpoint(stage.key, checkpoint_label(stage.key, several_fits))
        for seed, names in seeds.items():
            point.by_seed[seed] = _stage_difference(stage, names)
        points.append(point)
    return points


def checkpoint_label(key: str, with_fit: bool = False) -> str:
    """`weights/fit#2/epoch-3` -> `epoch 3` (`fit#2 epoch 3` with several fits), `weights/step-25`
    -> `step 25`, `weights/final/sequential#1` -> `final`, `weights/loop@train.py:30/pass-2` -> `loop pass 2`."""
    parts = key.split("/")[1:]
    if parts and parts[0].startswith("loop@"):  # `weights/loop@<site, maybe with slashes>/pass-2`
        return "loop " + parts[-1].replace("pass-", "pass ")
    if parts and parts[0] == "final":
        return "final" if len(parts) < 2 or parts[1].endswith("#1") else f"final {parts[1]}"
    words = [p.replace("epoch-", "epoch ").replace("step-", "step ") for p in parts]
    if not with_fit and words and words[0].startswith("fit#"):
        words = words[1:]
    return " ".join(words) or key


def growth_story(points: list[Checkpoint], values: list[float | None], digits: int = 1) -> str | None:
    """`identical until epoch 3; epoch 4: 1.0e-05`, `apart from created; final: 5.0e+00`,
    `identical at every checkpoint`, `final: 5.0e+00 (the only checkpoint compared)`; None when the
    seed had one run."""
    compared = [(point, value) for point, value in zip(points, values) if value is not None]
    if not compared:
        return None
    if len(compared) == 1:  # "apart from final; final: …" said one thing twice
        only, value = compared[0]
        return f"{only.label}: {growth_value(value, digits)} (the only checkpoint compared)"
    apart = next((point for point, value in compared if value), None)
    if apart is None:
        return "identical at every checkpoint"
    start = "apart from" if apart is compared[0][0] else "identical until"
    last_point, last_value = compared[-1]
    return f"{start} {apart.label}; {last_point.label}: {growth_value(last_value, digits)}"


def growth_value(value: float, digits: int = 1) -> str:
    if value == 0:
        return "identical"
    return "differs below the recorded precision" if value <= UNRESOLVED else f"{value:.{digits}e}"


def sparkline(values: list[float | None]) -> str:
    """One character per checkpoint on a fixed log scale (1e-12 ▁ … 1 █): `·` identical, ` ` not
    compared. Fixed, so two reports' lines can be read against each other."""
    low, high = SPARK_DECADES
    chars = []
    for value in values:
        if value is None:
            chars.append(" ")
        elif value == 0:
            chars.append("·")
        else:
            position = (min(max(math.log10(value), low), high) - low) / (high - low)
            chars.append(SPARK_LEVELS[round(position * (len(SPARK_LEVELS) - 1))])
    return "".join(chars)


def _runs_by_seed(comparison: Comparison) -> dict[Any, list[str]]:
    groups: dict[Any, list[str]] = {}
    for run in comparison.runs:
        if run.trace is not None:
            groups.setdefault(run.seed, []).append(run.name)
    return groups


def _fit_of(key: str) -> str | None:
    part = key.split("/")[1] if key.count("/") >= 1 else ""
    return part if part.startswith("fit#") else None


def _merged_point(key: str, label: str, stages: list[Stage], seeds: dict[Any, list[str]]) -> Checkpoint:
    point = Checkpoint(key, label)
    for seed, names in seeds.items():
        differences = [d for d in (_stage_difference(s, names) for s in stages) if d is not None]
        point.by_seed[seed] = max(differences) if differences else None
    return point


def _stage_difference(stage: Stage, names: list[str]) -> float | None:
    present = [name for name in names if name in stage.events]
    if len(present) < 2:
        return None
    reference = stage.events[present[0]]
    largest = 0.0
    for name in present[1:]:
        other = stage.events[name]
        if other.value == reference.value:
            continue
        largest = max(largest, _events_difference(reference.detail, other.detail))
    return largest


def _events_difference(reference: Any, other: Any) -> float:
    """The largest relative difference between two recorded weight summaries (a weights stage's
    `{"variables": [...]}` or one init variable's summary)."""
    ours = _variables(reference)
    theirs = _variables(other)
    if not ours or not theirs:
        return UNRESOLVED
    largest = 0.0
    for name in ours.keys() | theirs.keys():
        if name not in ours or name not in theirs:
            largest = max(largest, ENTIRELY)
            continue
        largest = max(largest, _variable_difference(ours[name], theirs[name]))
    return largest if largest > 0 else UNRESOLVED


def _variables(detail: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(detail, dict):
        return {}
    summaries = detail.get("variables", [detail] if "fp" in detail else [])
    return {str(v.get("name")): v for v in summaries if isinstance(v, dict)}


def _variable_difference(a: dict[str, Any], b: dict[str, Any]) -> float:
    if a.get("fp") == b.get("fp"):
        return 0.0
    if a.get("shape") != b.get("shape"):
        return ENTIRELY
    difference = 0.0
    if _one_side_not_finite([a.get("norm")], [b.get("norm")]):
        return ENTIRELY
    norm_a, norm_b = _number(a.get("norm")), _number(b.get("norm"))
    if norm_a is not None and norm_b is not None:
        difference = max(difference, _relative(abs(norm_a - norm_b), abs(norm_b)))
    sample_a, sample_b = a.get("sample"), b.get("sample")
    if isinstance(sample_a, list) and isinstance(sample_b, list) and len(sample_a) == len(sample_b):
        if _one_side_not_finite(sample_a, sample_b):
            return ENTIRELY  # a NaN or infinity in one run only: as different as can be
        pairs = [(x, y) for x, y in ((_number(x), _number(y)) for x, y in zip(sample_a, sample_b))
                 if x is not None and y is not None]
        if pairs:  # math.dist and math.hypot scale: no overflow for huge values
            delta = math.dist([x for x, _ in pairs], [y for _, y in pairs])
            difference = max(difference, _relative(delta, math.hypot(*(y for _, y in pairs))))
    return difference


def _one_side_not_finite(a: list[Any], b: list[Any]) -> bool:
    """NaN and infinities are written as strings ("NaN", "Infinity"): equal strings agree."""
    return any((_number(x) is None) != (_number(y) is None) or (_number(x) is None and x != y)
               for x, y in zip(a, b) if x is not None or y is not None)


def _relative(delta: float, scale: float) -> float:
    if delta == 0:
        return 0.0
    return min(delta / scale, ENTIRELY * 1e6) if scale > 0 else ENTIRELY


def _number(value: Any) -> float | None:
    return float(value) if is_finite_number(value) else None
