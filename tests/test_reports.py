"""The reporters over in-memory comparisons: the Rich table on narrow terminals and without colour,
Markdown escaping, JUnit XML validity, and the JSON document against its schema."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest
from rich.console import Console

from conftest import validate_report
from seedcheck.compare import Tolerance, compare
from seedcheck.trace import Event
from seedcheck.hints import explain
from seedcheck.report import json as json_report
from seedcheck import compare as C
from seedcheck.report import junit, labels, markdown, table
from test_compare import data, ev, run, runs_for, seed_call, weights


def diverging_comparison():
    seeded = seed_call("tf.random.set_seed", 1, 1, site="train.py:3")
    per_run = {}
    for index, fp in ((1, "a1b2c3d4e5"), (2, "ffee00112233"), (3, "a1b2c3d4e5")):
        per_run[f"s1_{index}"] = [
            ev("env", {"python": "3.11", "env": {"OMP_NUM_THREADS": str(index)}}), seeded,
            ev("init/sequential/dense/kernel#1", fp, site="model.py:12",
               detail={"name": "sequential/dense/kernel", "fp": fp, "norm": 1.0, "sample": [0.1 * index]}),
            data("data/fit#1/epoch-1", 20, ["x"]),
            ev("metrics/fit#1/epoch-1/loss", 0.5 + index / 1000),
            ev("exit", 0),
        ]
    return explain(compare(runs_for(**per_run)))


def render(comparison, width: int, **console_options) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, **console_options)
    table.render(comparison, console, "train.py", save_dir="runs/x")
    return buffer.getvalue()


@pytest.mark.parametrize("width", [200, 100, 80, 60, 50])
def test_the_table_keeps_each_stage_and_verdict_readable_at_any_width(width: int):
    comparison = diverging_comparison()
    out = render(comparison, width)
    assert all(len(line) <= width for line in out.splitlines())
    rows = {line.split()[0]: line for line in out.splitlines() if line.split()[:1] in (["init"], ["metrics"], ["data"])}
    # Cut in the middle if at all: the head, the last part and the first-divergence arrow stay.
    assert "sequen" in rows["init"] and "kernel" in rows["init"] and "◀" in rows["init"], rows["init"]
    assert "DIVERGED" in rows["init"]
    assert "DIVERGED" in rows["metrics"]
    assert "reproducible" in rows["data"]
    assert "Not reproducible" in out


def test_no_color_keeps_the_words_and_drops_the_colours(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_COLOR", "1")
    out = render(diverging_comparison(), 120, force_terminal=True)
    assert "DIVERGED" in out
    assert "\x1b[31m" not in out and "\x1b[1;31m" not in out  # no red
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[1;31m" in render(diverging_comparison(), 120, force_terminal=True)


def test_markdown_escapes_cells_and_leads_with_the_verdict():
    comparison = diverging_comparison()
    comparison.warnings.append("a | pipe and <b>tag</b>")
    text = markdown.render(comparison, "train.py")
    assert text.startswith("### ❌ seedcheck: Not reproducible")
    assert "**First divergence:** init `sequential/dense/kernel` at `model.py:12`" in text
    assert "a \\| pipe and &lt;b>tag&lt;/b>" in text
    assert "| $OMP_NUM_THREADS | 1 | 2 | 3 |" in text
    table_lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == table_lines[0].count(" | ") for line in table_lines[:2])


def test_junit_is_valid_xml_even_with_control_characters_in_stderr():
    comparison = diverging_comparison()
    comparison.runs[1].status = "failed"
    comparison.runs[1].problem = "exited with code 1"
    comparison.runs[1].stderr_tail = ["\x1b[31mTraceback\x1b[0m \x00 bad bytes"]
    root = ET.fromstring(junit.render(comparison, "train.py").encode())
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("errors") == "1" and int(suite.get("failures")) == 2
    error = suite.find("testcase[@name='run s1#2']/error")
    assert error is not None and "Traceback" in error.text
    cases = int(suite.get("tests"))
    assert cases == len(list(suite.iter("testcase")))


def test_junit_case_names_leave_line_numbers_out_so_an_edit_keeps_a_tests_history():
    """CI systems track a test by its name: a line added above a call must not make a new test
    (and drop the old one's history). The line is an attribute; two calls alike in one file are
    told apart by their order."""
    def shuffles(first_line: int) -> str:
        per_run = {f"s1_{index}": [ev(f"shuffle/tf.random.shuffle@train.py:{first_line}", "aa", site=f"train.py:{first_line}"),
                                   ev(f"shuffle/tf.random.shuffle@train.py:{first_line + 4}", "bb",
                                      site=f"train.py:{first_line + 4}"), ev("exit", 0)] for index in (1, 2)}
        return junit.render(explain(compare(runs_for(**per_run))), "train.py")

    before, after = (ET.fromstring(shuffles(line).encode()) for line in (10, 11))
    names = [case.get("name") for case in before.iter("testcase")]
    assert names == [case.get("name") for case in after.iter("testcase")]
    assert "shuffle tf.random.shuffle (train.py)" in names and "shuffle tf.random.shuffle (train.py, 2nd)" in names
    assert len(set(names)) == len(names)
    case = before.find(".//testcase[@name='shuffle tf.random.shuffle (train.py, 2nd)']")
    assert case is not None and (case.get("file"), case.get("line")) == ("train.py", "14")
    assert after.find(".//testcase[@name='shuffle tf.random.shuffle (train.py)']").get("line") == "11"


def test_json_report_matches_the_schema_and_the_schema_can_fail():
    import jsonschema

    comparison = explain(compare(runs_for(s1_1=[weights("weights/w", ("k", "a", [1.0]))],
                                          s1_2=[weights("weights/w", ("k", "b", [1.0 + 1e-9]))]),
                                 tolerance=Tolerance(atol=1e-6), ignore=("metrics/*",)))
    document = json.loads(json_report.dumps(comparison, "train.py"))
    validate_report(document)
    assert document["stages"][0]["verdict"] == "close"
    document["stages"][0]["verdict"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        validate_report(document)
    validate_report(json.loads(json_report.dumps(diverging_comparison(), "train.py")))


def test_junit_skips_runs_that_never_ran_or_that_fail_fast_stopped():
    """A stopped or skipped run is not an error: the verdict was certain without it."""
    events = [seed_call("random.seed", 1, 1), ev("weights/final/m", "aa")]
    runs = [run("s1#1", 1, events), run("s1#2", 1, [seed_call("random.seed", 1, 1), ev("weights/final/m", "bb")]),
            run("s1#3", 1, events[:1], status="stopped")]
    runs.append(C.RunResult("s1#4", 1, "skipped", problem="not run: --fail-fast found a divergence"))
    comparison = explain(compare(runs))
    root = ET.fromstring(junit.render(comparison, "train.py").encode())
    suite = root.find("testsuite")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["run s1#3"].find("skipped") is not None and cases["run s1#3"].find("error") is None
    assert cases["run s1#4"].find("skipped") is not None
    assert suite.get("errors") == "0"
    assert int(suite.get("failures")) >= 1  # the diverged final weights


@pytest.mark.parametrize(("events", "ignore", "words"), [
    ([ev("env", {"python": "3.11"})], (), "recorded no stage"),
    ([ev("env", {"python": "3.11"}), seed_call("random.seed", 1, 1)], ("seed/*",), "left out by --ignore"),
])
def test_a_check_of_nothing_says_so(events, ignore, words):
    """`all 0 stages agree` read like a pass; a gate that compared nothing must say it did not."""
    comparison = explain(compare(runs_for(s1_1=events, s1_2=events), ignore=ignore))
    sentence, tone = labels.summary_line(comparison)
    assert sentence.startswith("Nothing checked") and words in sentence and tone == "warn", sentence


def test_one_run_for_each_of_two_seeds_is_not_called_reproducible():
    """Seeds compared with each other show which stages follow the seed, not that a run repeats."""
    comparison = explain(compare(runs_for(s1_1=[seed_call("random.seed", 1, 1), ev("weights/final/m", "aa")],
                                          s2_1=[seed_call("random.seed", 2, 2), ev("weights/final/m", "aa")])))
    sentence, tone = labels.summary_line(comparison)
    assert sentence.startswith("One run per seed") and "2 seeds were compared with each other" in sentence
    assert tone == "warn" and comparison.exit_code == 0


def test_the_header_says_when_the_runs_were_a_force_seed_what_if():
    runs = runs_for(s1_1=[seed_call("random.seed", 1, 1)], s1_2=[seed_call("random.seed", 1, 1)])
    assert "force-seed" not in labels.header_line(compare(runs), "train.py")
    for forced in runs:
        forced.trace.header["force_seed"] = True
    assert "what-if: everything seeded first (--force-seed)" in labels.header_line(compare(runs), "train.py")


def test_the_json_report_says_whether_runs_of_a_seed_were_compared():
    """`reproducible` with one run per seed only means nothing diverged: CI scripts can tell."""
    once = compare(runs_for(s1_1=[seed_call("random.seed", 1, 1)], s2_1=[seed_call("random.seed", 2, 2)]))
    twice = compare(runs_for(s1_1=[seed_call("random.seed", 1, 1)], s1_2=[seed_call("random.seed", 1, 1)]))
    for comparison, compared in ((once, False), (twice, True)):
        document = json.loads(json_report.dumps(explain(comparison), "train.py"))
        validate_report(document)
        assert document["repeats_compared"] is compared and document["verdict"] == "reproducible"


@pytest.mark.parametrize("unseeded", [True, False])
def test_an_unseeded_dataset_shuffle_whose_call_repeats_is_not_shown_as_reproducible(unseeded: bool):
    """Its value is the call's arguments, which repeat; the order it draws need not. A SeedGenerator
    made without seed= records the seed it drew, which does repeat once Python is seeded: still
    plain reproducible."""
    config = {"buffer_size": 512, "seed": None, "reshuffle_each_iteration": True,
              "global_seed": None if unseeded else 7}
    shuffle = ev("shuffle/tf.data.Dataset.shuffle@train.py:9#1", config, site="train.py:9",
                 detail={"api": "tf.data.Dataset.shuffle", **config, "unseeded": unseeded})
    generator = ev("random/keras.random.SeedGenerator@train.py:12#1", 287416173, kind="rng", site="train.py:12",
                   detail={"api": "keras.random.SeedGenerator", "seed_arg": None, "unseeded": True})
    comparison = explain(compare(runs_for(s1_1=[shuffle, generator, ev("exit", 0)],
                                          s1_2=[shuffle, generator, ev("exit", 0)])))
    shuffle_stage, generator_stage = comparison.stages[:2]
    assert shuffle_stage.verdict == generator_stage.verdict == C.REPRODUCIBLE  # the JSON verdict keeps its meaning
    assert labels.verdict_text(shuffle_stage) == ("same call, no seed" if unseeded else "reproducible")
    assert labels.verdict_text(generator_stage) == "reproducible"
    rows = [line for line in render(comparison, 120).splitlines() if "train.py:" in line]
    assert ("same call, no seed" in rows[0]) is unseeded and rows[1].rstrip().endswith("reproducible")


def test_a_layers_random_state_is_labelled_with_its_layer():
    """Keras makes a Dropout's SeedGenerator at the first step, so its site is fit's line: the
    description names the layer the trace recorded."""
    detail = {"api": "keras.random.SeedGenerator", "seed_arg": None, "unseeded": True, "layer": "dropout_1 (Dropout)",
              "made_at": "train.py:14"}
    generator = ev("rng/keras.random.SeedGenerator@train.py:20#2", 5, site="train.py:20", detail=detail)
    comparison = compare(runs_for(s1_1=[generator, ev("exit", 0)], s1_2=[generator, ev("exit", 0)]))
    assert labels.stage_label(comparison.stages[0]) == ("random", "keras.random.SeedGenerator #2 · dropout_1")


def test_a_site_with_a_pipe_keeps_the_markdown_table_one_cell_per_column():
    """A `|` in a script's name split the site's code span into two cells on GitHub, so the verdict
    fell off the row (a table row's cells past the header's are dropped)."""
    draw = [ev("rng/numpy.random.rand@d |<b>.py:5#1", "a", site="d |<b>.py:5")]
    comparison = explain(compare(runs_for(s1_1=draw, s1_2=[ev("rng/numpy.random.rand@d |<b>.py:5#1", "b",
                                                                site="d |<b>.py:5")])))
    text = markdown.render(comparison, "d |<b>.py")
    row = next(line for line in text.splitlines() if line.startswith("| random numpy.random.rand"))
    assert "`d \\|<b>.py:5`" in row, row
    assert row.replace("\\|", "").count("|") == 6 and row.endswith("| DIVERGED (2 values) |"), row


@pytest.mark.parametrize("site, cell", [("a`b.py:5", "``a`b.py:5``"), ("a``b.py:5", "```a``b.py:5```"),
                                        ("`a.py:5", "`` `a.py:5 ``")])
def test_a_site_with_backticks_gets_a_fence_longer_than_any_run_of_them(site: str, cell: str):
    assert markdown._code_cell(site) == cell


def test_an_overridden_seeding_call_names_the_seed_the_script_asked_for():
    """The row shows the seed applied: 7 shifted as the run's seed shifted the script's first one
    (4294967262 under --seed 1 after np.random.seed(42)). The script's literal is what a reader knows."""
    def call(asked, applied, overridden=True):
        event = seed_call("random.seed", asked, applied)
        event.detail["overridden"] = overridden
        return event

    comparison = compare(runs_for(s1_1=[call(7, 4294967262)], s1_2=[call(7, 4294967262)]))
    assert labels.stage_label(comparison.stages[0]) == ("seeding", "random.seed (asked 7)")
    for same in (call(7, 7), call(7, 7, overridden=False)):
        assert labels.stage_label(compare(runs_for(s1_1=[same], s1_2=[same])).stages[0]) == ("seeding", "random.seed")


def test_the_narrow_table_counts_values_across_seeds():
    """Switched to counts (a narrow terminal), a stage reproducible by seed has one value per seed:
    "2 values", not "same"; a seed-insensitive one has one: "same", not a blank."""
    per_run = {f"s{seed}_{index}": [ev("rng/random.random@t.py:3#1", f"v{seed}"), ev("init/bias#1", "zero")]
               for seed in (1, 2) for index in (1, 2)}
    out = render(compare(runs_for(**per_run)), 50)
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith(("random", "init"))}
    assert "2 values" in lines["random"] and "same" not in lines["random"], out
    assert "same" in lines["init"], out


def test_a_diverged_stage_counts_the_values_its_row_shows():
    """Two seeds whose two runs each drew differently: four values in the row. The worst seed's count
    ("2 values") decides the verdict but read as if two values were shown."""
    per_run = {f"s{seed}_{index}": [ev("rng/random.random@t.py:3#1", f"v{seed}{index}")]
               for seed in (1, 2) for index in (1, 2)}
    comparison = compare(runs_for(**per_run))
    assert labels.verdict_text(comparison.stages[0]) == "DIVERGED (4 values)"
    narrow = [line for line in render(comparison, 50).splitlines() if line.startswith("random")]
    assert narrow and "4 values" in narrow[0], narrow
    assert json_report.document(comparison, "t.py")["stages"][0]["detail"]["distinct_values"] == 2  # the worst seed's


def test_piped_reports_have_no_trailing_blanks():
    """Rich pads the last column to its width; a CI log or a saved report should not carry that,
    in colour (FORCE_COLOR in CI) or not."""
    from seedcheck.report.terminal import ControlFilter, report_console

    buffer = io.StringIO()
    table.render(diverging_comparison(), report_console(buffer), "train.py", save_dir="runs/x")
    lines = buffer.getvalue().splitlines()
    assert len(lines) > 5 and not [line for line in lines if line.endswith(" ")], lines
    coloured = io.StringIO()
    ControlFilter(coloured, colour=True).write("verdict \x1b[1m  \x1b[0m\n  row  \n")
    assert coloured.getvalue() == "verdict\x1b[1m\x1b[0m\n  row\n"


@pytest.mark.parametrize("width", [50, 70, 100])
def test_the_header_wraps_between_its_parts_not_inside_one(width: int):
    comparison = diverging_comparison()
    comparison.jobs = 2
    parts = labels.header_parts(comparison, "train.py")
    assert len(parts) >= 4, parts
    out = render(comparison, width).splitlines()
    header = out[:out.index(next(line for line in out if line.startswith("stage")))]
    assert [part for line in header for part in line.split(" · ")] == parts, header
    assert all(len(line) <= width for line in header), header


def test_a_failing_summary_says_how_many_stages_were_ignored_as_a_passing_one_does():
    from seedcheck.report.labels import summary_line

    per_run = {f"s1_{index}": [ev("rng/random.random@t.py:3#1", f"v{index}"), ev("metrics/fit#1/epoch-1/time", index)]
               for index in (1, 2)}
    text, style = summary_line(compare(runs_for(**per_run), ignore=("metrics/*",)))
    assert style == "bad" and text.endswith("1 of 1 stages diverged across 2 runs (1 ignored)."), text
    per_run["s1_2"] = per_run["s1_2"][:1]
    failed = runs_for(**per_run)
    failed[1].status, failed[1].exit_code = "failed", 1
    text, style = summary_line(compare(failed, ignore=("metrics/*",)))
    assert style == "bad" and text.endswith("runs failed; 1 of 1 stages diverged or missing (1 ignored)."), text


@pytest.mark.parametrize("width", [60, 80, 130])
def test_long_stage_names_are_cut_in_the_middle_so_rows_stay_apart(width: int):
    """Cut at the end, a long layer's kernel and bias rows both read `a_very_long_layer_name…`."""
    layer = "a_very_long_layer_name_that_goes_on_and_on_for_quite_a_while_indeed_xyz"
    per_run = {f"s1_{index}": [ev(f"init/{layer}/kernel#1", f"k{index}", site="train.py:8",
                                  detail={"name": f"{layer}/kernel", "fp": f"k{index}", "sample": [0.1]}),
                               ev(f"init/{layer}/bias#1", "b", site="train.py:8",
                                  detail={"name": f"{layer}/bias", "fp": "b", "sample": [0.0]})]
               for index in (1, 2)}
    out = render(explain(compare(runs_for(**per_run))), width)
    rows = [line for line in out.splitlines() if line.startswith("init")]
    assert len(rows) == 2 and "/kernel" in rows[0] and "/bias" in rows[1] and "◀" in rows[0], out


def test_show_keeps_whole_keys_on_a_narrow_terminal_and_rounds_metrics():
    """`seedcheck show` is where --ignore patterns are copied from: a key cut to the column's width
    (two long init keys read alike at 60 columns) is folded instead; a metric reads as the table
    rounds it, not cut mid-digit with an ellipsis."""
    from pathlib import Path as _Path

    from seedcheck import show
    from seedcheck.trace import TRACE_FORMAT, Trace

    key = "init/a_very_long_layer_name_that_goes_on_and_on_for_quite_a_while_indeed_xyz/kernel#1"
    trace = Trace(path=_Path("t.jsonl"), header={"seedcheck_trace": TRACE_FORMAT, "run": "s1#1", "seed": 1},
                  events=[ev(key, "cde3b6e1af6b00"), ev("metrics/fit#1/epoch-1/accuracy", 0.33906251192092896)])
    buffer = io.StringIO()
    show.render(trace, Console(file=buffer, width=60))
    lines = buffer.getvalue().splitlines()
    header = next(line for line in lines if line.startswith("t (s)"))
    start, end = header.index("key"), header.index("value")
    column = "".join(line[start:end].strip() for line in lines[lines.index(header) + 1:] if len(line) > start)
    assert key in column, buffer.getvalue()
    assert "0.3390625" in buffer.getvalue() and "0.3390625119" not in buffer.getvalue()


def test_markdown_leaves_expected_seed_insensitive_stages_out_of_the_notable_ones():
    """Exit code 0 for every seed is what a script should do: the table dims it, and the Markdown's
    "not plainly reproducible" list no longer names it (whole-model weights the same for every seed
    stay there: a hard-coded seed)."""
    per_run = {f"s{seed}_1": [ev("weights/final/m", "w"), ev("exit", 0)] for seed in (1, 2)}
    text = markdown.render(explain(compare(runs_for(**per_run))), "t.py")
    notable = text.split("Stages that are not plainly reproducible", 1)[1].split("\n\n")[1]
    assert "weights final" in notable and "exit" not in notable, text
    # A seeding call the same for every seed stays notable: the seeds never reach the script.
    per_run = {f"s{seed}_1": [seed_call("random.seed", 42, 42), ev("exit", 0)] for seed in (1, 2)}
    text = markdown.render(explain(compare(runs_for(**per_run))), "t.py")
    assert "seeding random.seed" in text.split("Stages that are not plainly reproducible", 1)[1].split("\n\n")[1]


@pytest.mark.parametrize("width", [60, 80, 100])
def test_wide_characters_and_no_sites_keep_the_verdict_whole(width: int):
    """A layer named in CJK (two cells a character) and stages without a site: the site column's
    header was not counted, so the table came out two cells too wide and Rich cut the verdict
    ("DIVERGED (2 valu") and the arrow."""
    layer = "层" * 30
    per_run = {f"s1_{index}": [ev(f"init/{layer}/kernel#1", f"k{index}",
                                  detail={"name": f"{layer}/kernel", "fp": f"k{index}", "sample": [0.1]}),
                               ev(f"init/{layer}/bias#1", "b", detail={"name": f"{layer}/bias", "fp": "b", "sample": [0.0]})]
               for index in (1, 2)}
    rows = [line for line in render(explain(compare(runs_for(**per_run))), width).splitlines() if line.startswith("init")]
    assert "/kernel ◀" in rows[0] and "/bias" in rows[1], rows
    assert rows[0].rstrip().endswith(("DIVERGED", "DIVERGED (2 values)")), rows


def test_names_cut_alike_are_cut_again_until_the_rows_differ():
    """`seq/d0/kernel` … `seq/d11/kernel` at 50 columns all came out `seq/…/kernel`."""
    per_run = {f"s{seed}_1": [ev(f"init/seq/d{layer}/kernel#1", f"k{layer}",  # seed-insensitive: not folded
                                 detail={"name": f"seq/d{layer}/kernel", "fp": f"k{layer}", "sample": [0.1]})
                              for layer in range(12)] + [ev("metrics/fit#1/epoch-1/loss", float(seed))]
               for seed in (1, 2)}
    rows = [line.split()[1] for line in render(explain(compare(runs_for(**per_run))), 50).splitlines()
            if line.startswith("init")]
    assert len(rows) == 12 and len(set(rows)) == 12, rows


def test_show_on_an_80_column_terminal_keeps_keys_whole_and_says_where_the_details_went():
    from pathlib import Path as _Path

    from seedcheck import show
    from seedcheck.trace import TRACE_FORMAT, Trace

    keys = ["seed/tf.random.set_seed#1", "metrics/fit#1/epoch-3/val_sparse_categorical_accuracy"]
    trace = Trace(path=_Path("t.jsonl"), header={"seedcheck_trace": TRACE_FORMAT, "run": "s1#1", "seed": 1},
                  events=[seed_call("tf.random.set_seed", 123, 1), ev(keys[1], 0.5)])
    buffer = io.StringIO()
    show.render(trace, Console(file=buffer, width=80))
    out = buffer.getvalue()
    assert all(key in out for key in keys) and all(len(line) <= 80 for line in out.splitlines()), out
    assert "--full shows every detail" in out


def test_between_is_left_out_when_the_explanation_names_both_runs():
    from types import SimpleNamespace

    def between(explanation: str, runs=("s1#1", "s1#2")):
        return labels.between_text(SimpleNamespace(explanation=explanation, runs=runs))
    assert between("reached by s1#1 but not by s1#2 (the runs took different code paths)") is None
    assert between("7801… in s1#1, 071b… in s1#2") is None
    assert between("the values differ (max |Δ| ≈ 0.4)") == "between s1#1 and s1#2"
    assert between("reached by s1#11 but not by s1#2", runs=("s1#1", "s1#2")) == "between s1#1 and s1#2"


def test_step_snapshots_and_folded_draws_read_as_the_other_rows_do():
    comparison = compare(runs_for(s1_1=[ev("weights/step-10", "w"), ev("rng/numpy.random.uniform@t.py:3#rest", "r",
                                                                     site="t.py:3")]))
    assert [labels.stage_label(stage) for stage in comparison.stages] == [
        ("weights", "step 10"), ("random", "numpy.random.uniform #rest")]


def test_two_files_of_one_name_show_apart_in_the_site_column():
    """`noise.py:3` and `lib/noise.py:3` both showed as `noise.py:3`: the site column keeps as many
    directories as tell them apart, and a file name alone where it is unique."""
    def draw(site: str, value: str) -> Event:
        return ev(f"rng/random.random@{site}#1", value, site=site)
    per_run = {f"s1_{i}": [draw("noise.py:3", "a"), draw("lib/noise.py:3", f"b{i}"), draw("src/train.py:9", "c")]
               for i in (1, 2)}
    comparison = compare(runs_for(**per_run))
    assert labels.site_names(comparison.stages) == {"noise.py": "noise.py", "lib/noise.py": "lib/noise.py",
                                                    "src/train.py": "train.py"}
    assert labels.site_names([C.Stage("k", "rng", "a/x/t.py:1", "reproducible", {}),
                              C.Stage("k", "rng", "b/x/t.py:1", "reproducible", {})]) == {"a/x/t.py": "a/x/t.py",
                                                                                         "b/x/t.py": "b/x/t.py"}
    rows = [line for line in render(comparison, 120).splitlines() if line.startswith("random")]
    assert any(" noise.py:3 " in row for row in rows) and any("lib/noise.py:3" in row for row in rows), rows
    assert any(" train.py:9 " in row for row in rows), rows
    assert "`lib/noise.py:3`" in markdown.render(comparison, "t.py")


def test_a_failed_runs_stderr_tail_drops_colour_codes(tmp_path):
    """Keras prints its errors in bold: the panel shows the words, not `\\x1b[1m` as text (a probe saw
    the escapes push the panel's border out of line). TF's start-up chatter is left out as before."""
    from seedcheck.runner import stderr_tail

    log = tmp_path / "own-1.stderr.log"
    log.write_text("To enable the following instructions: AVX2\n\x1b[1mRandom ops require a seed\x1b[0m\n")
    assert stderr_tail(log) == ["Random ops require a seed"]


def test_a_failed_runs_error_keeps_the_scripts_own_frame_and_runs_that_failed_alike_share_it():
    """A library's last frames pushed the script's line out of the panel's six lines, and two runs
    that failed the same way printed the same traceback twice."""
    import io

    from rich.console import Console

    from seedcheck.compare import RunResult
    from seedcheck.report.table import _failed_runs, error_excerpt

    library = "/venv/lib/python3.11/site-packages/numpy/lib/_npyio_impl.py"
    tail = ["Traceback (most recent call last):", '  File "/home/me/train.py", line 10, in <module>',
            '    data = np.load("data/trian.npy")', *[line for n in range(4) for line in (
                f'  File "{library}", line {n}, in load', "    fid = open(file)")],
            "FileNotFoundError: [Errno 2] No such file or directory: 'data/trian.npy'"]
    excerpt = error_excerpt(tail)
    assert excerpt[:3] == ['  File "/home/me/train.py", line 10, in <module>', '    data = np.load("data/trian.npy")', "…"]
    assert excerpt[3:] == tail[-6:]
    assert error_excerpt(tail[:4] + tail[-1:]) == tail[:4] + tail[-1:]  # short: as it is
    runs = [RunResult(name, 1, "failed", exit_code=1, problem="exited with code 1", stderr_tail=tail)
            for name in ("s1#1", "s1#2")] + [RunResult("s1#3", 1, "timeout", problem="timed out after 5s")]
    out = io.StringIO()
    Console(file=out, width=120).print(_failed_runs(runs))
    text = out.getvalue()
    assert "s1#1, s1#2: exited with code 1" in text and text.count("FileNotFoundError") == 1
    assert "s1#3: timed out after 5s" in text


def test_a_named_draw_is_cut_before_its_layer_name():
    """`keras.random.SeedGenerator · dropout_3` cut at the end lost the layer, which tells the rows apart."""
    from rich.text import Text

    from seedcheck.report.table import _fitted

    cut = _fitted(Text("keras.random.SeedGenerator · dropout_3 ◀ first"), 34).plain
    assert cut.endswith("… · dropout_3 ◀") and cut.startswith("keras.") and len(cut) <= 34, cut
