"""The JUnit XML report: CI systems (GitHub, GitLab, Jenkins) show each stage as a test case.

One test case per run (a run that failed is an error; one that never ran, or that --fail-fast
stopped once the verdict was certain, is skipped) and one per stage: a diverged or missing
stage fails with the explanation, an ignored or unchecked one is skipped, a close one passes and
says how close.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from seedcheck.compare import CLOSE, DIVERGED, IGNORED, MISSING, UNCHECKED, Comparison
from seedcheck.report.labels import split_site, stage_label, value_text, verdict_text


def render(comparison: Comparison, target: str) -> str:
    suite = ET.Element("testsuite", name=f"seedcheck {target}")
    failures = errors = skipped = 0
    for run in comparison.runs:
        case = ET.SubElement(suite, "testcase", classname="seedcheck.run", name=f"run {run.name}",
                             time=f"{run.duration_s or 0:.3f}")
        if run.status in ("skipped", "stopped"):
            ET.SubElement(case, "skipped", message=run.problem or ("not run" if run.status == "skipped"
                                                                   else "stopped by --fail-fast"))
            skipped += 1
        elif not run.ok:
            error = ET.SubElement(case, "error", type=run.status, message=run.problem or run.status)
            error.text = "\n".join(run.stderr_tail[-12:])
            errors += 1
    divergence = comparison.first_divergence
    for stage, name in zip(comparison.stages, _case_names(comparison)):
        case = ET.SubElement(suite, "testcase", classname=f"seedcheck.{stage.kind}", name=name)
        file, line = split_site(stage.where)
        if file:  # where the call is: the attributes GitLab and pytest's own JUnit files use
            case.set("file", file)
        if line:
            case.set("line", line)
        values = "\n".join(f"{run}: {value_text(value, width=40, precise=True)}" for run, value in stage.values.items())
        if stage.fails:
            message = verdict_text(stage)
            if divergence is not None and divergence.stage is stage:
                message = f"first divergence: {divergence.explanation}"
            failure = ET.SubElement(case, "failure", type=stage.verdict, message=message)
            text = [f"stage {stage.key}: {verdict_text(stage)}", values]
            if divergence is not None and divergence.stage is stage:
                text += [f"likely cause: {divergence.cause}" if divergence.cause else "",
                         f"fix: {divergence.fix}" if divergence.fix else ""]
            failure.text = "\n".join(line for line in text if line)
            failures += 1
        elif stage.verdict in (IGNORED, UNCHECKED) or stage.not_reached:
            reason = ("left out by --ignore" if stage.verdict == IGNORED else
                      "--max-steps stopped the script before it wrote the file" if stage.not_reached == "--max-steps" else
                      "the runs that lack it ended early" if stage.not_reached else
                      "one run per seed: nothing to compare")
            ET.SubElement(case, "skipped", message=f"{verdict_text(stage)}: {reason}")
            skipped += 1
        elif stage.verdict in (CLOSE, DIVERGED, MISSING) or stage.kind == "env":
            ET.SubElement(case, "system-out").text = f"{verdict_text(stage)}\n{values}"
    variation_cases = 0
    if comparison.variations is not None:  # `seedcheck vary`: one case per variation
        control, results = comparison.variations
        for outcome in (control, *results):
            case = ET.SubElement(suite, "testcase", classname="seedcheck.vary", name=f"vary {outcome.name}")
            variation_cases += 1
            if outcome.verdict == "diverged":
                failure = ET.SubElement(case, "failure", type="diverged",
                                        message=f"{outcome.name}: first differs at {outcome.first_stage}")
                failure.text = "\n".join(line for line in (f"varies: {outcome.aspect}",
                                                             f"fix: {outcome.fix}" if outcome.fix else "") if line)
                failures += 1
            elif outcome.verdict == "inconclusive":  # no verdict on the variation itself
                ET.SubElement(case, "skipped", message=f"{outcome.name}: {outcome.problem}")
                skipped += 1
            elif outcome.verdict != "reproducible":
                ET.SubElement(case, "error", type=outcome.verdict, message=outcome.problem or outcome.verdict)
                errors += 1
    suite.set("tests", str(len(comparison.runs) + len(comparison.stages) + variation_cases))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    root = ET.Element("testsuites", name="seedcheck")
    root.append(suite)
    for element in root.iter():  # a script's stderr may hold control characters XML 1.0 forbids
        element.text = _xml_safe(element.text)
        for attribute, value in element.attrib.items():
            element.set(attribute, _xml_safe(value) or "")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case_names(comparison: Comparison) -> list[str]:
    """A test case's name for each stage, the same from commit to commit: CI systems keep a test's
    history (and flag it flaky or newly failing) by its name, so a call site's line number, which
    any edit above it moves, stays out of it (it is in the case's `line` attribute). The file stays,
    and two stages that would share a name are told apart by their order: `(train.py, 2nd)`."""
    names = []
    seen: dict[str, int] = {}
    for stage in comparison.stages:
        kind, description = stage_label(stage)
        file = split_site(stage.where)[0]
        name = f"{kind} {description}" + (f" ({file})" if file else "")
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            order = _ordinal(seen[name])
            name = f"{kind} {description} ({file}, {order})" if file else f"{name} ({order})"
        names.append(name)
    return names


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str | None) -> str | None:
    return None if text is None else _NOT_XML.sub("\ufffd", text)
