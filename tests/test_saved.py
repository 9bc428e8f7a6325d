"""Saved runs given to `compare`/`report`: every trace given is compared under its own name, and
whatever the files hold, the answer is a report or one line with the documented exit code.

Traces are written with the project's own TraceWriter (no TensorFlow); the CLI runs in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import seedcheck, validate_report
from test_trace import write_trace

from seedcheck.runner import MANIFEST
from seedcheck.trace import Event, TraceWriter


def write_run(path: Path, run: str, seed: int | None, weights: str = "w1", loss: float = 0.5,
              exit_code: int | None = 0, env: dict | None = None, tf: str = "2.21.0") -> Path:
    """A small finished run's trace: seeding, one weights checkpoint, one metric, the exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"seedcheck": "0.1.0", "run": run, "seed": seed, "target": "train.py", "command": ["train.py"],
              "started": "2025-01-01T00:00:00"}
    events = [
        Event("env", "env", env or {"python": "3.11.7"}),
        Event("env", "env/tensorflow", {"tensorflow": tf, "keras": "3.15.1", "intra_op_threads": 0}),
        Event("seed", "seed/keras.utils.set_random_seed#1", seed, site="train.py:4",
              detail={"api": "keras.utils.set_random_seed", "asked": 1, "applied": seed}),
        Event("weights", "weights/fit#1/epoch-1", weights),
        Event("metrics", "metrics/fit#1/epoch-1/loss", loss),
    ]
    if exit_code is not None:
        events.append(Event("exit", "exit", exit_code, detail={"duration_s": 1.0}))
    return write_trace(path, events, header)


def compare_json(*args: str | Path, out: Path, cwd: Path | None = None):
    """`seedcheck compare ARGS --json out`: the result and the parsed, schema-checked report."""
    result = seedcheck("compare", *args, "--json", out, cwd=cwd)
    report = json.loads(out.read_text()) if out.exists() else None
    if report is not None:
        validate_report(report)
    return result, report


def one_line_error(result, code: int = 2) -> str:
    assert result.code == code, (result.code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seedcheck: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# -- 1. every run keeps its own column --------------------------------------------------------------

def test_two_traces_of_one_run_in_one_folder_are_both_compared(tmp_path):
    write_run(tmp_path / "collected" / "s1-1-laptop.jsonl", "s1#1", 1, weights="w1")
    write_run(tmp_path / "collected" / "s1-1-ci.jsonl", "s1#1", 1, weights="w2")
    result, report = compare_json(tmp_path / "collected", out=tmp_path / "r.json")
    assert result.code == 1, result.stdout + result.stderr
    names = [run["name"] for run in report["runs"]]
    assert names == ["s1#1 (s1-1-ci.jsonl)", "s1#1 (s1-1-laptop.jsonl)"]
    stage = next(s for s in report["stages"] if s["key"] == "weights/fit#1/epoch-1")
    assert stage["verdict"] == "diverged" and set(stage["values"]) == set(names)


def test_a_compared_folder_named_base_is_not_taken_for_the_baseline(tmp_path):
    write_run(tmp_path / "ci-baseline" / "s1-1.jsonl", "s1#1", 1, weights="golden")
    write_run(tmp_path / "base" / "s1-1.jsonl", "s1#1", 1, weights="new")
    write_run(tmp_path / "other" / "s1-1.jsonl", "s1#1", 1, weights="new")
    result, report = compare_json("base", "other", "--baseline", "ci-baseline", out=tmp_path / "r.json",
                                  cwd=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    names = [run["name"] for run in report["runs"]]
    assert len(set(names)) == 3 and names[0] == "base:s1#1", names


def write_manifest(directory: Path, runs: list[dict], **top) -> None:
    """seedcheck-run.json as the runner writes it; each run dict needs name, seed and trace."""
    entries = [{"status": "ok", "exit_code": 0, "duration_s": 1.0, "problem": None, **run} for run in runs]
    (directory / MANIFEST).write_text(json.dumps({"seedcheck_run": 1, "seedcheck": "0.1.0", "target": "train.py",
                                                  "args": [], "jobs": 1, "runs": entries, **top}))


def saved_check(directory: Path, repeats: int = 2, seed: int = 1) -> Path:
    """A `run --save` directory: `repeats` agreeing runs of one seed and their manifest."""
    runs = []
    for index in range(1, repeats + 1):
        write_run(directory / f"s{seed}-{index}.jsonl", f"s{seed}#{index}", seed)
        runs.append({"name": f"s{seed}#{index}", "seed": seed, "trace": f"s{seed}-{index}.jsonl"})
    write_manifest(directory, runs)
    return directory


# -- 2. a manifest never hides a trace -----------------------------------------------------------------

def test_a_trace_added_to_a_save_directory_is_compared_and_named(tmp_path):
    runs = saved_check(tmp_path / "runs")
    write_run(runs / "s1-1-ci.jsonl", "s1#1", 1, weights="other machine")
    (runs / "notes.jsonl").write_text('{"not": "a trace"}\n')  # another tool's file stays out of it
    result, report = compare_json(runs, out=tmp_path / "r.json")
    assert result.code == 1, result.stdout + result.stderr
    assert len(report["runs"]) == 3
    assert any("s1-1-ci.jsonl: not listed in seedcheck-run.json" in w for w in report["warnings"])


# -- 4. a baseline held to itself checks nothing -------------------------------------------------------

def test_runs_that_are_all_copies_of_the_baseline_are_refused(tmp_path):
    runs = saved_check(tmp_path / "runs")
    message = one_line_error(seedcheck("compare", runs, "--baseline", runs))
    assert "every compared run is a copy of the baseline" in message and "pyproject" not in message


def test_a_baseline_with_a_run_that_did_not_finish_is_refused_before_any_run(tmp_path):
    # A reviewer's find: a baseline whose trace was cut or gone trained every run, then exit 3.
    script = Path(__file__).parent / "scripts" / "py_shuffle.py"
    missing = saved_check(tmp_path / "missing")
    (missing / "s1-2.jsonl").unlink()
    cut = saved_check(tmp_path / "cut")
    text = (cut / "s1-1.jsonl").read_bytes()
    (cut / "s1-1.jsonl").write_bytes(text[:-20])  # the exit event's line cut short
    crashed = tmp_path / "crashed"
    write_run(crashed / "s1-1.jsonl", "s1#1", 1, exit_code=1)
    for baseline, problem in ((missing, "its run s1#2 did not finish (its trace s1-2.jsonl is missing"),
                              (cut, "its run s1#1 did not finish (the trace has no exit event"),
                              (crashed, "its run s1#1 did not finish (exited with code 1)")):
        for args in (["run", script, "--repeats", "1", "--save", tmp_path / "new"], ["compare", saved_check(tmp_path / "r")]):
            message = one_line_error(seedcheck(*args, "--baseline", baseline))
            assert problem in message and f"--save {baseline} --force" in message, message
        assert not (tmp_path / "new").exists()  # refused before the check's runs
    # The command the message gives records it again, also with the broken baseline still named
    # (a reviewer's find: re-recording was refused by the same check), and from pyproject.toml.
    (tmp_path / "pyproject.toml").write_text('[tool.seedcheck]\nbaseline = "cut"\n')
    seeded = Path(__file__).parent / "scripts" / "python_seeding.py"
    again = seedcheck("run", seeded, "--seed", "1", "--repeats", "2", "--save", "cut", "--force", "-q", cwd=tmp_path)
    assert again.code == 0 and "re-recording the baseline cut" in again.stderr, again.stdout + again.stderr
    held = seedcheck("run", seeded, "--repeats", "1", "-q", cwd=tmp_path)  # held to it now
    assert held.code == 0 and "against the baseline" in held.stdout, held.stdout + held.stderr


def test_messages_about_seeds_and_configured_patterns_read_as_sentences(tmp_path):
    # Reviewer's finds: "the compared runs 5: not in the baseline", and a pattern from
    # pyproject.toml warned about as if typed with --ignore.
    baseline = saved_check(tmp_path / "golden", seed=1)
    message = one_line_error(seedcheck("compare", saved_check(tmp_path / "r5", seed=5), "--baseline", baseline))
    assert "the compared runs' seed 5: not in the baseline" in message, message
    (tmp_path / "pyproject.toml").write_text('[tool.seedcheck]\nignore = ["metrics/*/time"]\n')
    result, report = compare_json("r5", out=tmp_path / "r.json", cwd=tmp_path)
    assert result.code == 0, result.stdout + result.stderr
    assert "pyproject.toml's ignore pattern 'metrics/*/time' matches no stage" in report["warnings"][-1]
    result, report = compare_json("r5", "--ignore", "nothing/*", out=tmp_path / "r2.json", cwd=tmp_path)
    assert "--ignore 'nothing/*' matches no stage" in report["warnings"][-1]


def test_a_baseline_of_another_script_is_refused_before_any_run(tmp_path):
    # A reviewer's find: every stage of the other script's baseline read as missing, exit 1, and a
    # baseline set in pyproject.toml did not say how to leave it out.
    baseline = saved_check(tmp_path / "ci" / "golden")  # recorded from train.py (write_run's header)
    script = Path(__file__).parent / "scripts" / "py_shuffle.py"
    message = one_line_error(seedcheck("run", script, "--baseline", baseline, "--save", tmp_path / "new"))
    assert f"--baseline {baseline} was recorded from train.py, not {script}" in message, message
    assert "pyproject" not in message and not (tmp_path / "new").exists()
    (tmp_path / "pyproject.toml").write_text('[tool.seedcheck]\nbaseline = "ci/golden"\n')
    message = one_line_error(seedcheck("run", script, "--repeats", "1", "-q", cwd=tmp_path))
    assert "pass --no-baseline to leave it out" in message, message
    assert seedcheck("run", script, "--repeats", "1", "-q", "--no-baseline", cwd=tmp_path).code == 0


# -- 7. a baseline from the config says so ---------------------------------------------------------------

def test_an_error_about_a_configured_baseline_names_the_config_and_no_baseline(tmp_path):
    saved_check(tmp_path / "ci" / "golden", seed=123)
    saved_check(tmp_path / "runs7", seed=7)
    (tmp_path / "pyproject.toml").write_text('[tool.seedcheck]\nbaseline = "ci/golden"\n')
    for args in (["report", "runs7"], ["report", "ci/golden"]):
        message = one_line_error(seedcheck(*args, cwd=tmp_path))
        assert "pyproject.toml" in message and "--no-baseline" in message, message
    assert seedcheck("report", "runs7", "--no-baseline", cwd=tmp_path).code == 0


# -- 5. a path too long is a bad path, not a divergence ------------------------------------------------

LONG = "x" * 300  # past NAME_MAX: Path.exists() raises ENAMETOOLONG instead of returning False


def test_a_path_too_long_is_one_line_and_exit_2(tmp_path):
    runs = saved_check(tmp_path / "runs")
    script = Path(__file__).parent / "scripts" / "py_shuffle.py"
    for args in (["compare", tmp_path / f"{LONG}.jsonl"], ["compare", runs, "--json", tmp_path / f"{LONG}.json"],
                 ["compare", runs, "--baseline", tmp_path / LONG], ["show", tmp_path / f"{LONG}.jsonl"],
                 ["run", script, "--repeats", "1", "-q", "--save", tmp_path / LONG]):
        assert "too long" in one_line_error(seedcheck(*args)), args


# -- 6. a run that died before its header is a failed run, as `run` said ---------------------------------

def test_an_empty_trace_in_a_save_directory_is_a_failed_run(tmp_path):
    runs = saved_check(tmp_path / "runs")
    (runs / "s1-2.jsonl").write_bytes(b"")
    (runs / "s1-2.stderr.log").write_text("Fatal Python error: Aborted\n")
    result, report = compare_json(runs, out=tmp_path / "r.json")
    assert result.code == 3, result.stdout + result.stderr
    failed = report["runs"][1]
    assert (failed["name"], failed["seed"], failed["status"]) == ("s1#2", 1, "failed")
    assert "empty file" in failed["problem"]
    (runs / MANIFEST).unlink()  # without the manifest, its stderr log beside it says it was a run
    result, report = compare_json(runs, out=tmp_path / "r2.json")
    assert result.code == 3 and report["runs"][1]["name"] == "s1#2", result.stderr
    (runs / "s1-2.stderr.log").unlink()  # a user's empty file is still bad input
    one_line_error(seedcheck("compare", runs))


# -- 8, 9. an interrupted or --fail-fast check reads as it did -------------------------------------------

def partial_run(path: Path, run: str, seed: int) -> None:
    """A run ended before TensorFlow was used: its process env and nothing else."""
    writer = TraceWriter(path, {"run": run, "seed": seed, "target": "train.py"})
    writer.write(Event("env", "env", {"python": "3.11.7"}))
    writer.close()


def test_report_of_an_interrupted_check_is_a_partial_report(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs / "s1-1.jsonl", "s1#1", 1)
    partial_run(runs / "s1-2.jsonl", "s1#2", 1)
    write_manifest(runs, [  # as a seedcheck before the manifest said how the check ended wrote it
        {"name": "s1#1", "seed": 1, "trace": "s1-1.jsonl"},
        {"name": "s1#2", "seed": 1, "trace": "s1-2.jsonl", "status": "interrupted", "exit_code": None,
         "problem": "interrupted"},
        {"name": "s1#3", "seed": 1, "trace": None, "status": "skipped", "exit_code": None,
         "problem": "not run: interrupted"}])
    result, report = compare_json(runs, out=tmp_path / "r.json")
    assert result.code == 130, result.stdout + result.stderr
    assert report["interrupted"] is True
    assert [(r["name"], r["status"]) for r in report["runs"]] == [("s1#1", "ok"), ("s1#2", "interrupted"),
                                                                  ("s1#3", "skipped")]
    assert report["environment_differences"] == []  # TF settings s1#2 never recorded are not a difference
    assert "Interrupted: partial report" in seedcheck("report", runs).stdout


def test_report_of_a_fail_fast_check_keeps_its_skipped_run_and_its_stop(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs / "s1-1.jsonl", "s1#1", 1, weights="a")
    write_run(runs / "s1-2.jsonl", "s1#2", 1, weights="b", exit_code=None)
    write_manifest(runs, [
        {"name": "s1#1", "seed": 1, "trace": "s1-1.jsonl"},
        {"name": "s1#2", "seed": 1, "trace": "s1-2.jsonl", "status": "stopped", "exit_code": None,
         "problem": "stopped by --fail-fast: two runs of a seed already disagree"},
        {"name": "s1#3", "seed": 1, "trace": None, "status": "skipped", "exit_code": None,
         "problem": "not run: --fail-fast found a divergence"}], stopped_early=True)
    junit = tmp_path / "r.xml"
    result, report = compare_json(runs, "--junit", junit, out=tmp_path / "r.json")
    assert result.code == 1, result.stdout + result.stderr
    assert report["stopped_early"] is True
    assert [r["status"] for r in report["runs"]] == ["ok", "stopped", "skipped"]
    assert 'name="run s1#3"' in junit.read_text()
    assert "stopped at the first divergence (--fail-fast)" in " ".join(seedcheck("report", runs).stdout.split())


def test_report_of_a_parallel_check_says_the_runs_shared_the_cores(tmp_path):
    """`report` gives the report `run` gave: with --jobs 2 it said "jobs": 2 and that the runs
    shared the CPU cores; from the saved runs it said 1 and nothing."""
    runs = tmp_path / "runs"
    write_run(runs / "s1-1.jsonl", "s1#1", 1, weights="a")
    write_run(runs / "s1-2.jsonl", "s1#2", 1, weights="a")
    write_manifest(runs, [{"name": "s1#1", "seed": 1, "trace": "s1-1.jsonl"},
                          {"name": "s1#2", "seed": 1, "trace": "s1-2.jsonl"}], jobs=2)
    result, report = compare_json(runs, out=tmp_path / "r.json")
    assert result.code == 0 and report["jobs"] == 2, result.stdout + result.stderr
    assert "2 at a time (--jobs: runs shared the CPU cores)" in " ".join(seedcheck("report", runs).stdout.split())


# -- 10. a closed stdout keeps the verdict's exit code ------------------------------------------------

def closed_stdout(*args: str | Path) -> tuple[int, str]:
    """Run seedcheck with its stdout's reader already gone, as `seedcheck … | head -0` leaves it."""
    process = subprocess.Popen([sys.executable, "-m", "seedcheck", *map(str, args)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    process.stdout.close()
    stderr = process.stderr.read()
    return process.wait(timeout=60), stderr


def test_a_closed_stdout_keeps_the_verdicts_exit_code_and_prints_no_traceback(tmp_path):
    runs = saved_check(tmp_path / "runs")
    write_run(tmp_path / "other" / "s1-1.jsonl", "s1#1", 1, weights="other")
    assert closed_stdout("compare", runs, "--json", tmp_path / "r.json") == (0, "")
    assert json.loads((tmp_path / "r.json").read_text())["verdict"] == "reproducible"  # files still written
    assert closed_stdout("compare", runs, tmp_path / "other") == (1, "")
    assert closed_stdout("compare", runs, "--format", "markdown") == (0, "")
    assert closed_stdout("show", runs / "s1-1.jsonl") == (0, "")  # show has no verdict: it did its job


# -- 12. an empty path is refused, never the current directory --------------------------------------------

def test_an_empty_path_is_refused_and_nothing_is_written(tmp_path):
    runs = saved_check(tmp_path / "runs")
    script = Path(__file__).parent / "scripts" / "py_shuffle.py"
    work = tmp_path / "work"
    work.mkdir()
    for args in (["run", script, "--repeats", "1", "-q", "--save", ""], ["compare", runs, "--baseline", ""],
                 ["compare", ""], ["show", ""], ["compare", runs, "--json", ""]):
        message = one_line_error(seedcheck(*args, cwd=work))
        assert "an empty path" in message, args
        # A report file is not a folder: the current directory is not what it would mean.
        assert ("names no file" in message) == (args[-2] == "--json"), message
    assert list(work.iterdir()) == []


# -- 13. hand-edited but parseable files ----------------------------------------------------------------

def test_a_manifest_field_of_the_wrong_type_is_one_line_naming_the_file(tmp_path):
    runs = saved_check(tmp_path / "runs")
    manifest = json.loads((runs / MANIFEST).read_text())
    manifest["runs"][1].update(status="failed", problem=137)  # someone stored the exit status there
    (runs / MANIFEST).write_text(json.dumps(manifest))
    message = one_line_error(seedcheck("compare", runs, "--format", "json"))
    assert f"{runs / MANIFEST}: run 2: problem is 137" in message


def test_an_environment_value_that_is_not_an_object_is_tolerated(tmp_path):
    write_run(tmp_path / "a.jsonl", "s1#1", 1)
    edited = tmp_path / "b.jsonl"
    write_run(edited, "s1#2", 1)
    lines = [json.loads(line) for line in edited.read_text().splitlines()]
    for record in lines:
        if record.get("key") == "env/tensorflow":
            record["value"] = "unknown"
    edited.write_text("".join(json.dumps(record) + "\n" for record in lines))
    for first, second in ((edited, tmp_path / "a.jsonl"), (tmp_path / "a.jsonl", edited)):  # either as reference
        result = seedcheck("compare", first, second)
        assert result.code == 0 and "Traceback" not in result.stderr, result.stderr


def test_a_metric_too_large_for_a_float_is_a_divergence_in_every_format(tmp_path):
    write_run(tmp_path / "runs" / "s1-1.jsonl", "s1#1", 1)
    write_run(tmp_path / "runs" / "s1-2.jsonl", "s1#2", 1, loss=10**400)
    result, report = compare_json(tmp_path / "runs", "--junit", tmp_path / "r.xml", "--markdown", tmp_path / "r.md",
                                  out=tmp_path / "r.json")
    assert result.code == 1 and "Traceback" not in result.stderr, result.stderr
    stage = next(s for s in report["stages"] if s["key"] == "metrics/fit#1/epoch-1/loss")
    assert stage["verdict"] == "diverged"
    for output_format in ("table", "markdown"):
        assert seedcheck("compare", tmp_path / "runs", "--format", output_format, "--rtol", "0.1").code == 1


# -- 11. the header: each seed once, each TF version ---------------------------------------------------------

def test_the_header_groups_seeds_and_shows_each_tensorflow_version(tmp_path):
    for machine, tf in (("machine-a", "2.21.0"), ("machine-b", "2.22.0")):
        for seed in (123, 7):
            write_run(tmp_path / machine / f"s{seed}-1.jsonl", f"s{seed}#1", seed, tf=tf)
    header = seedcheck("compare", tmp_path / "machine-a", tmp_path / "machine-b").stdout.splitlines()[0]
    assert "4 runs (seed 123 ×2, seed 7 ×2)" in header and "TF 2.21.0 / 2.22.0" in header, header


# -- 14. report texts ----------------------------------------------------------------------------------

def test_markdown_escapes_run_names_and_counts_stages_once(tmp_path):
    write_run(tmp_path / "a.jsonl", "a|b<img src=x>", 1, weights="w1")
    write_run(tmp_path / "b.jsonl", "s1#2", 1, weights="w2")
    markdown = seedcheck("compare", tmp_path / "a.jsonl", tmp_path / "b.jsonl", "--format", "markdown").stdout
    assert "<img" not in markdown and "a\\|b&lt;img src=x>" in markdown
    assert "Stages that are not plainly reproducible (1):" in markdown  # the total is the headline's alone


def test_compare_advice_and_a_failed_check_with_every_stage_ignored_read_sensibly(tmp_path):
    write_run(tmp_path / "s1.jsonl", "s1#1", 1)
    write_run(tmp_path / "s2.jsonl", "s2#1", 2)
    once = " ".join(seedcheck("compare", tmp_path / "s1.jsonl", tmp_path / "s2.jsonl").stdout.split())
    assert "give two traces of a seed" in once and "--repeats" not in once
    write_run(tmp_path / "crashed.jsonl", "s1#2", 1, exit_code=1)
    failed = seedcheck("compare", tmp_path / "s1.jsonl", tmp_path / "crashed.jsonl", "--ignore", "*")
    assert failed.code == 3
    assert "1 of 2 runs failed; every stage is left out by --ignore." in " ".join(failed.stdout.split())


def test_how_the_baseline_ended_is_not_how_the_compared_check_ended(tmp_path):
    baseline = saved_check(tmp_path / "golden")
    manifest = json.loads((baseline / MANIFEST).read_text())
    (baseline / MANIFEST).write_text(json.dumps({**manifest, "stopped_early": True}))
    result, report = compare_json(saved_check(tmp_path / "runs"), "--baseline", baseline, out=tmp_path / "r.json")
    assert result.code == 0 and report["stopped_early"] is False, result.stdout + result.stderr
