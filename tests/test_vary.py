"""`seedcheck vary`: a control pair, then one run per variation of the environment, each held to
the control. End to end on sample scripts whose data order depends on one aspect each."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
from conftest import REPO, SCRIPTS, seedcheck, seedcheck_json

from seedcheck.vary import VARIATIONS, VaryError, parse_vary

# Variations that by construction cannot touch a script that uses no set of strings, no directory
# listing, no clock, no working directory and no tf.data pipeline of its own.
INERT = ["hashseed", "listdir", "time", "cwd", "tfdata"]
# Variations that change arithmetic (kernels, summation order): CPU-dependent, measured.
ARITHMETIC = ["threads", "onednn", "determinism"]


def outcomes(result) -> dict[str, dict]:
    variations = result.report["variations"]
    return {o["name"]: o for o in [variations["control"], *variations["results"]]}


def test_parse_vary():
    assert parse_vary("all") == list(VARIATIONS)
    assert parse_vary("-time") == [name for name in VARIATIONS if name != "time"]
    assert parse_vary("all,-time,-cwd") == [name for name in VARIATIONS if name not in ("time", "cwd")]
    assert parse_vary("listdir, hashseed") == ["listdir", "hashseed"]
    for bad, words in (("bogus", "no variation named 'bogus'"), ("", "empty"), ("time,-time", "leaves no")):
        with pytest.raises(VaryError, match=words):
            parse_vary(bad)


@pytest.mark.parametrize(("args", "words"), [
    (["vary", "tests/scripts/py_shuffle.py", "--vary", "bogus"], "no variation named 'bogus'"),
    (["vary", "tests/scripts/py_shuffle.py", "--seed", "1", "--seed", "2"], "give one --seed"),
    (["run", "tests/scripts/py_shuffle.py", "--vary", "all", "--fail-fast"], "leave out --fail-fast"),
    (["run", "tests/scripts/py_shuffle.py", "--vary", "all", "--repeats", "5"], "leave out --repeats"),
    (["run", "tests/scripts/py_shuffle.py", "--vary", "all", "--baseline", "ci/base"], "leave out --baseline"),
])
def test_bad_vary_input_is_one_line_and_exit_2(args, words):
    result = seedcheck(*args)
    assert result.code == 2 and result.stderr.count("\n") == 1 and words in result.stderr, result.stderr


@pytest.mark.parametrize("how", ["time", "datetime", "strftime"])
def test_a_clock_seeded_script_breaks_only_under_time(tmp_path, how):
    """However the script reads the clock: `datetime.now()` and `time.strftime` read it in C, and
    were neither pinned in the control runs nor moved by the `time` variation (runs that started
    within one second passed every variation)."""
    result = seedcheck_json("vary", SCRIPTS / "clock_seeded.py", "--vary", "time,hashseed,listdir,cwd",
                            "--", how, tmp_path=tmp_path, timeout=120)
    assert result.code == 1, result.stdout + result.stderr
    found = outcomes(result)
    assert found["control"]["verdict"] == "reproducible"  # the control pins the clock
    # Without --seed the script's own seeding is observed: the seed it passed is what differs first.
    assert found["time"]["verdict"] == "diverged" and found["time"]["first_divergence"] == "seed/random.seed#1"
    assert [name for name, o in found.items() if o["verdict"] == "diverged"] == ["time"]
    assert result.report["variations"]["summary"].startswith("✘ Unreproducible when varying: time (seeding random.seed)")


@pytest.mark.e2e
@pytest.mark.long
@pytest.mark.parametrize(("script", "culprit", "stage", "varied"), [
    # Each of the other inert variations is tried on one of the two scripts (all of them on the
    # fully seeded classifier below): four runs fewer than trying all on both.
    ("sample_scripts/hash_order_data.py", "hashseed", "data/fit#1/epoch-1", ["hashseed", "listdir", "tfdata"]),
    ("sample_scripts/listdir_order_data.py", "listdir", "data/fit#1/epoch-1", ["listdir", "hashseed", "time", "cwd"]),
    # tf.io.gfile.glob: the case above tried the other variations on this script already
    ("sample_scripts/listdir_order_data.py --gfile", "listdir", "data/fit#1/epoch-1", ["listdir"]),
])
def test_exactly_the_aspect_a_script_depends_on_breaks_it(tmp_path, script, culprit, stage, varied):
    junit = tmp_path / "vary.xml"
    script, *script_args = script.split()
    result = seedcheck_json("vary", script, "--seed", "1", "--vary", ",".join(varied), "-j", "2", "--junit", junit,
                            *(["--", *script_args] if script_args else []), tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    found = outcomes(result)
    assert found["control"]["verdict"] == "reproducible"
    assert {name for name, o in found.items() if o["verdict"] == "diverged"} == {culprit}
    assert found[culprit]["first_divergence"] == stage and found[culprit]["fix"] == VARIATIONS[culprit].fix
    assert f"Unreproducible when varying: {culprit} (data fit#1 epoch 1)." in " ".join(result.stdout.split())
    # The boxed cause speaks of the variation, as the line under the table does (for a reversed
    # listing it blamed a random op in a parallel map, which the script does not have).
    first = result.report["first_divergence"]
    assert first["rule"] in {f"vary-{culprit}", *(["hash-order"] if culprit == "hashseed" else [])}, first
    assert first["rule"] == "hash-order" or first["fix"] == VARIATIONS[culprit].fix
    failed_cases = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase") if c.find("failure") is not None]
    assert f"vary {culprit}" in failed_cases and "vary control" not in failed_cases
    # The saved directory gives the same variations again (their names are in its manifest).
    again = seedcheck("report", tmp_path / "runs", "--json", tmp_path / "again.json")
    assert again.code == 1 and f"Unreproducible when varying: {culprit} (data fit#1 epoch 1)." in again.stdout


@pytest.mark.e2e
@pytest.mark.long
def test_a_fully_seeded_script_stays_reproducible_under_what_does_not_touch_it(tmp_path):
    result = seedcheck_json("vary", "sample_scripts/classifier_fully_seeded.py", "--seed", "1", "-j", "2",
                            "--", "--epochs", "1", tmp_path=tmp_path)
    found = outcomes(result)
    assert set(found) == {"control", *VARIATIONS}
    assert all(found[name]["verdict"] == "reproducible" for name in ["control", *INERT]), found
    for name in ARITHMETIC:  # same start and same batches: only the weights after training may move
        outcome = found[name]
        assert outcome["verdict"] == "reproducible" or outcome["first_divergence"].startswith("weights/"), outcome
    assert result.code == (1 if any(found[n]["verdict"] == "diverged" for n in ARITHMETIC) else 0)


def test_a_variation_is_inconclusive_when_the_control_pair_differs_too():
    """Runs under identical settings that already differ say nothing against a variation: it was
    DIVERGED with its fix printed (never deterministic=False, iterate sorted(...)) for a script
    whose own parallel map was the cause. Now inconclusive, without a fix, in every report."""
    import io
    import xml.etree.ElementTree as ET

    from rich.console import Console
    from test_compare import ev, run

    from seedcheck.compare import compare
    from seedcheck.report import junit, markdown, table
    from seedcheck.vary import judge_variations

    def data(value: str) -> list:
        return [ev("data/loop@train.py:9/pass-1", value), ev("exit", 0)]

    for control_2, verdict in (("b", "inconclusive"), ("a", "diverged")):
        comparison = compare([run("control#1", 1, data("a")), run("control#2", 1, data(control_2)),
                              run("tfdata#1", 1, data("c")), run("hashseed#1", 1, data("a"))])
        judge_variations(comparison, ["tfdata", "hashseed"])
        control, (tfdata, hashseed) = comparison.variations
        assert (tfdata.verdict, hashseed.verdict) == (verdict, "reproducible"), tfdata
        out = io.StringIO()
        table.render(comparison, Console(file=out, width=100), "train.py")
        text = " ".join(out.getvalue().split())
        assert ("Fix (tfdata)" in text) is (verdict == "diverged") and f"tfdata tf.data" in text
        assert (VARIATIONS["tfdata"].fix in markdown.render(comparison, "train.py")) is (verdict == "diverged")
        case = [c for c in ET.fromstring(junit.render(comparison, "train.py")).iter("testcase")
                if c.get("name") == "vary tfdata"][0]
        assert [child.tag for child in case] == (["skipped"] if verdict == "inconclusive" else ["failure"])
    assert control.verdict == "reproducible"


def test_a_variation_that_differs_before_the_control_pair_does_is_still_diverged():
    """The control pair differs only at the end; a variation that changed the data order, where the
    control runs still agree, is evidence against the variation (a reviewer's find: it was
    inconclusive wherever it differed)."""
    from test_compare import ev, run

    from seedcheck.compare import compare
    from seedcheck.vary import judge_variations, verdict_sentence

    def events(data: str, end: str) -> list:
        return [ev("data/loop@train.py:9/pass-1", data), ev("weights/end", end), ev("exit", 0)]

    comparison = compare([run("control#1", 1, events("a", "w1")), run("control#2", 1, events("a", "w2")),
                          run("listdir#1", 1, events("b", "w3")), run("tfdata#1", 1, events("a", "w4"))])
    judge_variations(comparison, ["listdir", "tfdata"])
    control, (listdir, tfdata) = comparison.variations
    assert control.verdict == "diverged" and control.first_key == "weights/end"
    assert (listdir.verdict, listdir.first_key, listdir.fix) == ("diverged", "data/loop@train.py:9/pass-1",
                                                                   VARIATIONS["listdir"].fix)
    assert (tfdata.verdict, tfdata.fix, tfdata.problem) == ("inconclusive", None, "the control pair differs too")
    first = comparison.first_divergence  # the check's, too, is the variation's (the control runs agree there)
    assert (first.stage.key, first.rule, first.fix) == ("data/loop@train.py:9/pass-1", "vary-listdir",
                                                        VARIATIONS["listdir"].fix)
    sentence, tone = verdict_sentence(control, [listdir, tfdata])
    assert sentence.endswith("; and earlier when varying: listdir (data loop@train.py:9 pass 1).") and tone == "bad", sentence


def test_the_variations_table_prints_brackets_as_text():
    import io

    from rich.console import Console
    from test_compare import ev, runs_for

    from seedcheck.compare import compare
    from seedcheck.report import table
    from seedcheck.vary import VariationOutcome

    comparison = compare(runs_for(s1_1=[ev("exit", 0)], s1_2=[ev("exit", 0)]))
    control = VariationOutcome("control", "the control pair", "control#2", "reproducible")
    broken = VariationOutcome("cwd", "[bold]another[/] directory", "cwd#1", "failed", problem="exited [/x] badly")
    comparison.variations = (control, [broken])
    out = io.StringIO()
    table.render(comparison, Console(file=out, width=160), "train.py")
    assert "exited [/x] badly" in out.getvalue() and "[bold]another[/] directory" in out.getvalue()


@pytest.mark.parametrize("command", [["run", "--vary", "hashseed"], ["vary", "--vary", "hashseed"]])
def test_run_vary_and_vary_take_the_same_configuration(tmp_path, command):
    """pyproject.toml's seeds apply to both spellings; its fail_fast, repeats and baseline, which are
    for plain runs, block neither (only typed on the command line are they a usage error)."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.seedcheck]\nseeds = [3]\nfail_fast = true\nrepeats = 5\nbaseline = "ci/base"\n')
    shutil.copy(SCRIPTS / "py_shuffle.py", tmp_path)
    result = seedcheck_json(command[0], "py_shuffle.py", *command[1:], "--", "--seeded", tmp_path=tmp_path, cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert [(run["name"], run["seed"]) for run in result.report["runs"]] == \
        [("control#1", 3), ("control#2", 3), ("hashseed#1", 3)]


def test_configured_seeds_that_vary_cannot_take_are_named(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.seedcheck]\nseeds = [1, 2]\n")
    shutil.copy(SCRIPTS / "py_shuffle.py", tmp_path)
    result = seedcheck("vary", "py_shuffle.py", cwd=tmp_path)
    assert result.code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "pyproject.toml seeds = [1, 2]: vary holds one seed's runs to a control: give one --seed" in result.stderr


def test_the_cwd_mirror_resolves_paths_through_dotdot_and_is_removed(tmp_path):
    """`..` from the mirror reaches a mirror of the real parent: the script named through `..` (up to
    / and down again), its data in ../data; call sites read as in the control."""
    work, data, temp = tmp_path / "project" / "src", tmp_path / "project" / "data", tmp_path / "tmp"
    for folder in (work, data, temp):
        folder.mkdir(parents=True)
    for name in "abcdef":
        (data / f"{name}.txt").write_text(name)
    script = os.path.relpath(SCRIPTS / "reads_parent_data.py", work)
    assert script.startswith("../../")
    result = seedcheck_json("vary", script, "--seed", "1", "--vary", "cwd", "--artifact", "{run_dir}/order.txt",
                            "--", "--out", "{run_dir}/order.txt", tmp_path=tmp_path, cwd=work,
                            env={"TMPDIR": str(temp)})
    assert result.code == 0, result.stdout + result.stderr
    assert outcomes(result)["cwd"]["verdict"] == "reproducible"
    judged = [stage for stage in result.report["stages"] if stage["kind"] != "env"]
    assert {stage["kind"] for stage in judged} >= {"seed", "shuffle", "output"}
    # One site in the control and the mirror: outside the working directory, named from the script's
    # project root (this repository's, found from the real path, not the mirror's).
    assert {stage["site"] for stage in judged if stage["kind"] == "shuffle"} == {"tests/scripts/reads_parent_data.py:13"}
    assert all(stage["verdict"] == "reproducible" for stage in judged), judged
    ran_in = (tmp_path / "runs" / "cwd-1.stdout.log").read_text().strip()
    assert ran_in.startswith(f"{temp.resolve()}/seedcheck-cwd-") and ran_in.endswith(str(work.resolve())), ran_in
    assert list(temp.iterdir()) == [], "the mirror was left behind"
    assert len(list(data.iterdir())) == 6 and (SCRIPTS / "reads_parent_data.py").is_file()  # removed as links only


def test_a_usage_error_after_the_mirror_was_made_leaves_none_behind(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    args = ("vary", "tests/scripts/py_shuffle.py", "--vary", "cwd", "--save", tmp_path / "runs", "-q", "--", "--seeded")
    assert seedcheck(*args, env={"TMPDIR": str(temp)}).code == 0
    again = seedcheck(*args, env={"TMPDIR": str(temp)})  # the save directory now holds runs
    assert again.code == 2 and "already holds" in again.stderr, again.stderr
    assert list(temp.iterdir()) == [], "the mirror was left behind"


def test_a_varied_run_that_failed_is_not_explained_as_a_divergence(tmp_path):
    """Its exit code differs from the control's because it failed: exit 3 and its problem say so; a
    seeding hint ("the script seeds nothing") for a script with no randomness would mislead."""
    result = seedcheck_json("vary", SCRIPTS / "bound_to_its_directory.py", "--vary", "cwd,hashseed",
                            tmp_path=tmp_path, env={"BOUND_TO": str(REPO)})
    assert result.code == 3, result.stdout + result.stderr
    found = outcomes(result)
    assert (found["cwd"]["verdict"], found["hashseed"]["verdict"]) == ("failed", "reproducible")
    assert result.report["first_divergence"] is None
    assert "Likely cause" not in result.stdout and "seeds nothing" not in result.stdout


def _variation_verdicts(report: dict) -> dict[str, str]:
    variations = report["variations"]
    return {o["name"]: o["verdict"] for o in [variations["control"], *variations["results"]]}


def test_an_interrupted_vary_says_so_and_what_did_not_finish_is_not_run(tmp_path):
    runs, report = tmp_path / "runs", tmp_path / "report.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "seedcheck", "vary", "tests/scripts/sleeps_when_varied.py", "--seed", "1",
         "--vary", "hashseed,listdir,time", "--save", str(runs), "--json", str(report), "-q"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as a user's shell gives it
    trace = runs / "hashseed-1.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (trace.exists() and "random.seed" in trace.read_text()):
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Interrupted: partial report of 3 runs." in " ".join(stdout.split())
    expected = {"control": "reproducible", "hashseed": "not run", "listdir": "not run", "time": "not run"}
    live = json.loads(report.read_text())
    assert _variation_verdicts(live) == expected
    assert live["variations"]["summary"] == "Partial: not every variation ran."
    again = seedcheck("report", runs, "--json", tmp_path / "again.json")
    saved = json.loads((tmp_path / "again.json").read_text())
    assert _variation_verdicts(saved) == expected
    # The saved check reads as the live one did (the manifest says it was interrupted).
    assert "Interrupted: partial report of 3 runs." in " ".join(again.stdout.split()), again.stdout
    assert saved["variations"]["summary"] == "Partial: not every variation ran."
    assert "failed when varying" not in again.stdout and again.code == 130
