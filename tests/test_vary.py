"""`seedcheck vary`: a control pair, then one run per variation of the environment, each held to
the control. End to end on sample scripts whose data order depends on one aspect each."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from conftest import SCRIPTS, seedcheck, seedcheck_json

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
])
def test_bad_vary_input_is_one_line_and_exit_2(args, words):
    result = seedcheck(*args)
    assert result.code == 2 and result.stderr.count("\n") == 1 and words in result.stderr, result.stderr


def test_a_clock_seeded_script_breaks_only_under_time(tmp_path):
    result = seedcheck_json("vary", SCRIPTS / "clock_seeded.py", "--vary", "time,hashseed,listdir,cwd",
                            tmp_path=tmp_path, timeout=120)
    assert result.code == 1, result.stdout + result.stderr
    found = outcomes(result)
    assert found["control"]["verdict"] == "reproducible"  # the control pins the clock
    # Without --seed the script's own seeding is observed: the seed it passed is what differs first.
    assert found["time"]["verdict"] == "diverged" and found["time"]["first_divergence"] == "seed/random.seed#1"
    assert [name for name, o in found.items() if o["verdict"] == "diverged"] == ["time"]
    assert result.report["variations"]["summary"].startswith("✘ Unreproducible when varying: time (seeding random.seed)")


@pytest.mark.e2e
@pytest.mark.parametrize(("script", "culprit", "stage"), [
    ("sample_scripts/hash_order_data.py", "hashseed", "data/fit#1/epoch-1"),
    ("sample_scripts/listdir_order_data.py", "listdir", "data/fit#1/epoch-1"),
])
def test_exactly_the_aspect_a_script_depends_on_breaks_it(tmp_path, script, culprit, stage):
    junit = tmp_path / "vary.xml"
    result = seedcheck_json("vary", script, "--seed", "1", "--vary", ",".join(INERT), "-j", "2", "--junit", junit,
                            tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    found = outcomes(result)
    assert found["control"]["verdict"] == "reproducible"
    assert {name for name, o in found.items() if o["verdict"] == "diverged"} == {culprit}
    assert found[culprit]["first_divergence"] == stage and found[culprit]["fix"] == VARIATIONS[culprit].fix
    assert f"Unreproducible when varying: {culprit} (data fit#1 epoch 1)." in " ".join(result.stdout.split())
    failed_cases = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase") if c.find("failure") is not None]
    assert f"vary {culprit}" in failed_cases and "vary control" not in failed_cases
    # The saved directory gives the same variations again (their names are in its manifest).
    again = seedcheck("report", tmp_path / "runs", "--json", tmp_path / "again.json")
    assert again.code == 1 and f"Unreproducible when varying: {culprit} (data fit#1 epoch 1)." in again.stdout


@pytest.mark.e2e
def test_a_fully_seeded_script_stays_reproducible_under_what_does_not_touch_it(tmp_path):
    result = seedcheck_json("vary", "sample_scripts/classifier_fully_seeded.py", "--seed", "1", "-j", "2",
                            tmp_path=tmp_path)
    found = outcomes(result)
    assert set(found) == {"control", *VARIATIONS}
    assert all(found[name]["verdict"] == "reproducible" for name in ["control", *INERT]), found
    for name in ARITHMETIC:  # same start and same batches: only the weights after training may move
        outcome = found[name]
        assert outcome["verdict"] == "reproducible" or outcome["first_divergence"].startswith("weights/"), outcome
    assert result.code == (1 if any(found[n]["verdict"] == "diverged" for n in ARITHMETIC) else 0)


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
