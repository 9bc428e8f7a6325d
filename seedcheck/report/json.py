"""The machine-readable report: a stable, versioned document CI scripts can rely on."""

from __future__ import annotations

import json
from typing import Any

import seedcheck
from seedcheck.compare import CLOSE, DIVERGED, Comparison, Stage, variable_differences, differing_pair
from seedcheck.trace import json_safe

# Version of the report document. Bump on a change that breaks a consumer, and log it here:
#   1 (seedcheck 0.1.0): seedcheck_report, verdict, exit_code, runs, stages, first_divergence,
#                        warnings, notes, tolerance, ignore, environment_differences;
#                        variations (`seedcheck vary` only) added in 0.1.0 too; repeats_compared
#                        added later, optional in the schema (a document without it still validates);
#                        a stage's detail.not_reached (an --artifact --max-steps kept from being
#                        written) added later, optional too; then for a stage only runs that
#                        ended early lack, with detail.not_reached_because (optional).
# The document is described by seedcheck/report/report-1.schema.json (JSON Schema 2020-12), shipped
# with the package; tests validate every report they make against it.
REPORT_FORMAT = 1


def document(comparison: Comparison, target: str) -> dict[str, Any]:
    divergence = comparison.first_divergence
    return {
        "seedcheck_report": REPORT_FORMAT,
        "seedcheck": seedcheck.__version__,
        "target": target,
        "verdict": comparison.verdict,
        "exit_code": comparison.exit_code,
        "interrupted": comparison.interrupted,
        "terminated": comparison.terminated,
        "jobs": comparison.jobs,
        "stopped_early": comparison.fail_fast,
        "repeats_compared": comparison.repeats_compared,
        "tolerance": {"rtol": comparison.tolerance.rtol, "atol": comparison.tolerance.atol},
        "ignore": list(comparison.ignore),
        "runs": [
            {"name": run.name, "seed": run.seed, "status": run.status, "exit_code": run.exit_code,
             "duration_s": run.duration_s, "trace": str(run.trace_path) if run.trace_path else None,
             "problem": run.problem, "baseline": run.baseline}
            for run in comparison.runs
        ],
        "stages": [_stage(stage, comparison) for stage in comparison.stages],
        "first_divergence": None if divergence is None else {
            "key": divergence.stage.key, "kind": divergence.stage.kind, "site": divergence.stage.site,
            "runs": list(divergence.runs), "explanation": divergence.explanation,
            "cause": divergence.cause, "fix": divergence.fix, "rule": divergence.rule,
        },
        "environment_differences": [{"field": d.field, "values": d.values} for d in comparison.env_differences],
        "warnings": comparison.warnings,
        "notes": comparison.notes,
        **({"variations": _variations(comparison)} if comparison.variations is not None else {}),
    }


def _variations(comparison: Comparison) -> dict[str, Any]:
    from seedcheck.vary import verdict_sentence

    control, results = comparison.variations

    def outcome(o: Any) -> dict[str, Any]:
        return {"name": o.name, "varies": o.aspect, "run": o.run, "verdict": o.verdict,
                "first_divergence": o.first_key, "fix": o.fix, "problem": o.problem}

    return {"summary": verdict_sentence(control, results)[0], "control": outcome(control),
            "results": [outcome(o) for o in results]}


def _stage(stage: Stage, comparison: Comparison) -> dict[str, Any]:
    detail: dict[str, Any] = {"distinct_values": stage.distinct, "seed_sensitive": stage.seed_sensitive}
    if stage.max_delta is not None:
        detail["max_delta"] = stage.max_delta
    if stage.deviation is not None:
        detail["max_abs_deviation"] = stage.deviation
    if stage.ignored_verdict is not None:
        detail["ignored_verdict"] = stage.ignored_verdict
    if stage.not_reached:
        detail["not_reached"], detail["not_reached_because"] = True, stage.not_reached
    if stage.unseeded_call:
        detail["unseeded"] = True
    if stage.superseded:
        detail["superseded"] = True
    if stage.clock:
        detail["clock_seed"] = stage.clock  # diverged though the values agree: a seed from the clock
    if stage.verdict in (DIVERGED, CLOSE) and stage.kind in ("weights", "init"):
        a, b = differing_pair(stage, comparison.runs)
        detail["differing_variables"] = [
            {"name": name, "max_abs_delta_in_sample": delta}
            for name, delta in variable_differences(stage.events[a], stage.events[b])
        ]
    return {"key": stage.key, "kind": stage.kind, "site": stage.site, "verdict": stage.verdict,
            "fails": stage.fails, "values": stage.values, "detail": detail}


def dumps(comparison: Comparison, target: str) -> str:
    return json.dumps(json_safe(document(comparison, target)), indent=2, allow_nan=False) + "\n"
