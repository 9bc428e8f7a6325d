"""The hook runs a script as `python` would, passes the seed in, and keeps the trace through
failures. These use small non-TensorFlow scripts, so they are fast."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from conftest import processes_marked, REPO, SCRIPTS, seedcheck, seedcheck_json
from seedcheck.trace import read_trace


def test_script_sees_what_plain_python_shows(tmp_path):
    script = "tests/scripts/introspect.py"
    plain = subprocess.run([sys.executable, script], cwd=REPO, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, check=True)
    result = seedcheck("run", script, "--repeats", "1", "--save", tmp_path, "-q")
    assert result.code == 0, result.stderr
    under_seedcheck = (tmp_path / "own-1.stdout.log").read_text()
    assert json.loads(under_seedcheck) == json.loads(plain.stdout)


def test_seed_reaches_script_through_env_and_arguments(tmp_path):
    result = seedcheck("run", "tests/scripts/env_and_args.py", "--seed", "7", "--repeats", "1", "--save", tmp_path,
                       "-q", "--", "--seed", "{seed}", "--tag", "x{seed}y")
    assert result.code == 0, result.stderr
    seen = json.loads((tmp_path / "s7-1.stdout.log").read_text())
    assert seen == {"argv": ["--seed", "7", "--tag", "x7y"], "seed": "7", "run": "s7#1", "run_dir": str(tmp_path / "s7-1")}


def test_override_replaces_literal_seeds_and_records_them(tmp_path):
    result = seedcheck_json("run", "tests/scripts/python_seeding.py", "--seed", "3", "--repeats", "2",
                            tmp_path=tmp_path)
    assert result.code == 0, result.stderr
    trace = read_trace(tmp_path / "runs" / "s3-1.jsonl")
    seeds = [(e.key, e.site, e.detail["asked"], e.detail["applied"]) for e in trace.events if e.kind == "seed"]
    assert seeds == [("seed/random.seed#1", "tests/scripts/python_seeding.py:6", 5, 3),
                     ("seed/numpy.random.seed#1", "tests/scripts/python_seeding.py:7", 6, 3)]
    # Both runs drew the same numbers from the overridden seed, and TensorFlow was never imported.
    logs = [(tmp_path / "runs" / f"s3-{i}.stdout.log").read_text() for i in (1, 2)]
    assert logs[0] == logs[1] and logs[0].strip()
    assert trace.find("exit").detail["tensorflow_used"] is False
    assert "TensorFlow not used" in seedcheck("run", "tests/scripts/python_seeding.py", "--seed", "3",
                                              "--repeats", "2", "--save", tmp_path / "again", "-q").stdout


def test_no_override_leaves_literals_alone(tmp_path):
    seedcheck_json("run", "tests/scripts/python_seeding.py", "--seed", "3", "--repeats", "1", "--no-override",
                   tmp_path=tmp_path)
    trace = read_trace(tmp_path / "runs" / "s3-1.jsonl")
    assert [e.value for e in trace.events if e.kind == "seed"] == [5, 6]
    assert all(e.detail["overridden"] is False for e in trace.events if e.kind == "seed")


def test_exit_code_of_script_is_kept_and_fails_the_check(tmp_path):
    result = seedcheck_json("run", "tests/scripts/exit_code.py", "--repeats", "2", tmp_path=tmp_path, timeout=60)
    # no argument: int(sys.argv[1]) raises IndexError -> the script's crash, exit 1
    assert result.code == 3
    result = seedcheck_json("run", "tests/scripts/exit_code.py", "--repeats", "2", "--", "4",
                            tmp_path=tmp_path / "b", timeout=60)
    assert result.code == 3
    assert [r["exit_code"] for r in result.report["runs"]] == [4, 4]
    assert result.report["verdict"] == "failed"
    assert result.stage("exit")["values"] == {"own#1": 4, "own#2": 4}
    assert "exited with code 4" in result.report["runs"][0]["problem"]


def test_uncaught_exception_is_reported_like_python_without_seedcheck_frames(tmp_path):
    result = seedcheck_json("run", "tests/scripts/raises.py", "--repeats", "1", tmp_path=tmp_path, timeout=60)
    assert result.code == 3
    stderr_log = (tmp_path / "runs" / "own-1.stderr.log").read_text()
    assert "FileNotFoundError: data/train.csv" in stderr_log
    assert 'raises.py", line 8, in <module>' in stderr_log and "seedcheck" not in stderr_log
    exit_event = read_trace(tmp_path / "runs" / "own-1.jsonl").find("exit")
    assert exit_event.value == 1 and exit_event.detail["exception"] == "FileNotFoundError"


def test_timeout_kills_the_run_and_keeps_its_trace(tmp_path):
    started = time.monotonic()
    result = seedcheck_json("run", "tests/scripts/sleeps.py", "--repeats", "1", "--timeout", "2",
                            tmp_path=tmp_path, timeout=60)
    assert time.monotonic() - started < 30
    assert result.code == 3
    assert result.report["runs"][0]["status"] == "timeout"
    trace = read_trace(tmp_path / "runs" / "own-1.jsonl")
    assert [e.key for e in trace.events] == ["env", "seed/random.seed#1"]  # up to the hang, nothing lost
    assert processes_marked(tmp_path) == [], "processes left behind"


def test_run_that_dies_without_cleanup_leaves_a_readable_trace(tmp_path):
    result = seedcheck_json("run", "tests/scripts/dies_midway.py", "--repeats", "2", tmp_path=tmp_path, timeout=60)
    assert result.code == 3
    assert result.report["runs"][0]["problem"] == "exited with code 9"
    trace = read_trace(tmp_path / "runs" / "own-1.jsonl")
    assert [e.value for e in trace.events if e.kind == "seed"] == [7, 8]
    assert trace.find("exit") is None and not trace.torn_tail
    assert result.stage("seed/random.seed#2")["verdict"] == "reproducible"


def test_module_mode_runs_like_python_dash_m(tmp_path):
    plain = subprocess.run([sys.executable, "-m", "introspect"], cwd=SCRIPTS, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, check=True)
    result = seedcheck("run", "-m", "introspect", "--repeats", "1", "--save", tmp_path, "-q", cwd=SCRIPTS)
    assert result.code == 0, result.stderr
    assert json.loads((tmp_path / "own-1.stdout.log").read_text()) == json.loads(plain.stdout)


def test_ctrl_c_ends_the_runs_prints_a_partial_report_and_exits_130(tmp_path):
    import signal

    process = subprocess.Popen(
        [sys.executable, "-m", "seedcheck", "run", "tests/scripts/sleeps.py", "--repeats", "2", "--save",
         str(tmp_path / "runs"), "--json", str(tmp_path / "report.json"), "-q"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell's background job inherits SIGINT ignored, and Python then never raises
        # KeyboardInterrupt: give seedcheck the terminal's default, as a user's shell does.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    trace = tmp_path / "runs" / "own-1.jsonl"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (trace.exists() and "random.seed" in trace.read_text()):
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Interrupted" in stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["interrupted"] is True and report["exit_code"] == 130
    assert [r["status"] for r in report["runs"]] == ["interrupted", "skipped"]
    assert [e.key for e in read_trace(trace).events] == ["env", "seed/random.seed#1"]
    assert processes_marked(tmp_path) == [], "processes left behind"
