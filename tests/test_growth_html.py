"""Divergence growth (from recorded norms and samples), its sparkline, and the HTML report over
in-memory comparisons. The HTML of real runs is checked end to end in test_e2e_samples.py."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from seedcheck.compare import compare
from seedcheck.hints import explain
from seedcheck.report import html, table
from seedcheck.report.growth import UNRESOLVED, checkpoint_label, divergence_growth, growth_story, sparkline
from test_compare import ev, runs_for, weights


def drifting_runs(apart_from: int):
    """Two runs of seed 1 identical until epoch `apart_from`, then apart by 1e-6 growing tenfold per
    epoch; a third seed-2 run alone."""
    per_run = {}
    for label, wobble in (("s1_1", 0.0), ("s1_2", 1.0), ("s2_1", 0.0)):
        events = [ev("init/dense/kernel#1", "k0", detail={"name": "dense/kernel", "fp": "k0", "norm": 1.0,
                                                           "sample": [0.6, 0.8]})]
        for epoch in range(1, 5):
            delta = wobble * 1e-6 * 10 ** (epoch - apart_from) if epoch >= apart_from else 0.0
            sample = [0.6 + delta, 0.8]
            fp = "w%d" % epoch if delta == 0 else "w%d-%g" % (epoch, delta)
            events.append(weights(f"weights/fit#1/epoch-{epoch}", ("dense/kernel", fp, sample)))
            events.append(ev(f"metrics/fit#1/epoch-{epoch}/loss", 1.0 / epoch + delta))
        events.append(ev("exit", 0))
        per_run[label] = events
    return explain(compare(runs_for(**per_run)))


def test_growth_is_zero_while_identical_then_the_relative_sample_difference():
    points = divergence_growth(drifting_runs(apart_from=3))
    assert [p.label for p in points] == ["created", "epoch 1", "epoch 2", "epoch 3", "epoch 4"]
    seed1 = [p.by_seed[1] for p in points]
    assert seed1[:3] == [0.0, 0.0, 0.0]
    assert seed1[3] == pytest.approx(1e-6, rel=1e-3) and seed1[4] == pytest.approx(1e-5, rel=1e-3)
    assert all(p.by_seed[2] is None for p in points)  # one run: nothing to compare


def test_differing_fingerprints_with_equal_summaries_never_read_as_identical():
    a = weights("weights/final/m#1", ("v", "fp-a", [1.0, 2.0]))
    b = weights("weights/final/m#1", ("v", "fp-b", [1.0, 2.0]))
    (point,) = divergence_growth(compare(runs_for(s1_1=[a], s1_2=[b])))
    assert point.by_seed[1] == UNRESOLVED


def test_a_variable_only_one_run_has_is_entirely_different():
    a = weights("weights/final/m#1", ("v", "fp-a", [1.0]), ("extra", "fp-x", [1.0]))
    b = weights("weights/final/m#1", ("v", "fp-a", [1.0]))
    (point,) = divergence_growth(compare(runs_for(s1_1=[a], s1_2=[b])))
    assert point.by_seed[1] == 1.0


def test_one_checkpoint_says_its_value_once():
    a = weights("weights/final/m#1", ("v", "fp-a", [1.0]))
    b = weights("weights/final/m#1", ("v", "fp-b", [2.0]))
    points = divergence_growth(compare(runs_for(s1_1=[a], s1_2=[b])))
    assert growth_story(points, [points[0].by_seed[1]]) == "final: 5.0e-01 (the only checkpoint compared)"


def test_labels_and_sparkline_scale():
    assert checkpoint_label("weights/fit#2/epoch-3") == "epoch 3"
    assert checkpoint_label("weights/fit#2/epoch-3", with_fit=True) == "fit#2 epoch 3"
    assert checkpoint_label("weights/step-25") == "step 25"
    assert checkpoint_label("weights/final/sequential#1") == "final"
    assert checkpoint_label("weights/loop@/srv/jobs/train.py:30/pass-2") == "loop pass 2"  # a site with slashes
    assert sparkline([None, 0.0, 1e-12, 1e-6, 1.0, 50.0]) == " ·▁▅██"


def test_terminal_shows_growth_under_the_table_only_when_runs_came_apart():
    def terminal(comparison) -> str:
        buffer = io.StringIO()
        table.render(comparison, Console(file=buffer, width=140), "train.py")
        return buffer.getvalue()

    out = terminal(drifting_runs(apart_from=3))
    line = next(line for line in out.splitlines() if line.strip().startswith("seed 1"))
    assert "···▄▅  identical until epoch 3; epoch 4: 1.0e-05" in line
    assert "Divergence growth" in out
    assert "Divergence growth" not in terminal(drifting_runs(apart_from=99))
    # Every weights stage ignored: no growth line over a passing verdict.
    ignored = drifting_runs(apart_from=3)
    ignored = explain(compare(ignored.runs, ignore=("weights/*", "metrics/*")))
    assert "Reproducible" in terminal(ignored) and "Divergence growth" not in terminal(ignored)


def test_html_is_one_offline_file_with_table_panel_and_both_plots():
    page = html.render(drifting_runs(apart_from=3), "train.py <script>")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "train.py &lt;script&gt;" in page and "<script" not in page  # escaped, and no script of ours
    assert re.findall(r'(?:src|href)\s*=\s*"(?!#)', page) == []  # nothing to fetch
    assert "@import" not in page and "url(" not in page.replace("url(#", "")
    assert page.count("<svg") == 2  # growth and metrics
    assert 'id="first-divergence"' in page and "weights" in page
    assert "identical until epoch 3; epoch 4: 1.00e-05" in page
    assert page.count("◀ first") == 1
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "two plots share an element id"


def test_html_of_reproducible_runs_says_identical_and_has_no_divergence_panel():
    page = html.render(drifting_runs(apart_from=99), "train.py")
    assert "identical at every checkpoint" in page and 'id="first-divergence"' not in page
    assert "Reproducible" in page


def test_nan_in_one_run_is_entirely_different_and_huge_values_do_not_overflow():
    a = weights("weights/final/m#1", ("v", "fp-a", [1.0, 2.0]))
    b = weights("weights/final/m#1", ("v", "fp-b", [1.0, 2.0]))
    b.detail["variables"][0]["sample"] = ["NaN", 2.0]
    (point,) = divergence_growth(compare(runs_for(s1_1=[a], s1_2=[b])))
    assert point.by_seed[1] == 1.0
    huge_a = weights("weights/final/m#1", ("v", "fp-a", [1e200, -1e200]))
    huge_b = weights("weights/final/m#1", ("v", "fp-b", [-1e200, 1e200]))
    (point,) = divergence_growth(compare(runs_for(s1_1=[huge_a], s1_2=[huge_b])))
    assert point.by_seed[1] == pytest.approx(2.0)


def test_dollar_signs_in_names_are_text_not_formulas():
    comparison = drifting_runs(apart_from=3)
    for run in comparison.runs:
        run.name = run.name.replace("s1#", "acc$\\frac$#")
    page = html.render(comparison, "train.py")
    assert page.count("<svg") == 2
