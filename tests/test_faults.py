"""The fault matrix (issue 6): every way a check can go wrong, and what seedcheck does about it.
Whatever happens, the evidence recorded so far stays readable, the report says what happened, the
exit code says which kind of trouble it was, and no process is left behind (`no_stray_processes`
checks that after every test here).

| fault                                          | outcome                                        | test |
|------------------------------------------------|------------------------------------------------|------|
| script raises                                  | run failed, exit 3, stderr tail in the report  | test_uncaught_exception_… |
| script exits non-zero                          | run failed with its code, exit 3               | test_exit_code_… |
| script calls os._exit                          | failed, trace readable, reached stages judged  | test_run_that_dies_without_cleanup_… |
| run killed by SIGKILL                          | failed "killed by SIGKILL", stages judged      | test_a_run_killed_by_sigkill_… |
| run hangs past --timeout                       | timeout, process group (grandchildren) killed  | test_timeout_… (two) |
| Ctrl-C on seedcheck                            | partial report, exit 130, nothing left         | test_ctrl_c_… |
| SIGTERM on seedcheck                           | partial report, exit 143, nothing left         | test_sigterm_… |
| the signal lands inside Popen.poll()           | a request acted on between polls; waits bounded | test_a_signal_…, test_a_run_whose_… |
| script spawns Python (subprocess, multiproc.)  | note "child-not-traced", trace not torn        | test_python_children_… |
| stdin read, cwd changed, MBs, invalid UTF-8    | works; logs kept byte for byte                 | test_stdin_cwd_… |
| script never imports TensorFlow                | draws, artifacts, exit checked; "not used"     | test_a_script_without_tensorflow_… |
| bad arguments, missing/dir/non-Python script   | one line, exit 2                               | test_bad_arguments, test_non_python_file |
| unwritable / already used --save, --json       | one line, exit 2 (--force replaces)            | test_save_…, test_unwritable_… |
| empty, non-JSON, foreign, newer trace          | one line, exit 2                               | test_unreadable_traces_… |
| truncated trace                                | read up to the cut, run marked incomplete      | test_a_truncated_trace_… |
| traces of different scripts compared           | warned, runs labelled by directory             | test_compare_of_different_scripts_… |
| hostile trace (escapes, markup, code)          | shown as text, nothing executed                | test_a_hostile_trace_… |
| truncated or mutated traces (fuzzed)           | read, or the one TraceError                    | test_trace.py (hypothesis) |
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO, SCRIPTS, processes_marked, seedcheck, seedcheck_json

from seedcheck.runner import MANIFEST
from seedcheck.trace import read_trace

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def no_stray_processes(tmp_path):
    """After each test, no process started for it is still alive (a killed one gets a moment to go)."""
    yield
    deadline = time.monotonic() + 5
    while processes_marked(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_marked(tmp_path) == [], "processes left behind"


def _wait_for(predicate, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.1)
    assert predicate(), "timed out waiting"


# -- runs that fail ---------------------------------------------------------------------------------


def test_uncaught_exception_is_reported_like_python_without_seedcheck_frames(tmp_path):
    result = seedcheck_json("run", "tests/scripts/raises.py", "--repeats", "1", tmp_path=tmp_path, timeout=60)
    assert result.code == 3
    stderr_log = (tmp_path / "runs" / "own-1.stderr.log").read_text()
    assert "FileNotFoundError: data/train.csv" in stderr_log
    assert 'raises.py", line 8, in <module>' in stderr_log
    # Only the script's own frames, wherever the checkout lives (a clone is often named seedcheck).
    frames = re.findall(r'File "([^"]+)"', stderr_log)
    assert frames and all(frame.endswith("tests/scripts/raises.py") for frame in frames), frames
    exit_event = read_trace(tmp_path / "runs" / "own-1.jsonl").find("exit")
    assert exit_event.value == 1 and exit_event.detail["exception"] == "FileNotFoundError"


def test_an_exception_raised_inside_fit_shows_no_seedcheck_frames_either(tmp_path):
    """seedcheck's wrapper of Model.fit sat between the script's line and Keras's frames (and in the
    exception it was raised from), where a plain run has none."""
    result = seedcheck_json("run", "tests/scripts/raises_in_fit.py", "--repeats", "1", tmp_path=tmp_path, timeout=120)
    assert result.code == 3
    stderr_log = (tmp_path / "runs" / "own-1.stderr.log").read_text()
    assert "RuntimeError: cannot write the epoch log" in stderr_log
    frames = re.findall(r'File "([^"]+)", line (\d+)', stderr_log)
    assert not [frame for frame, _ in frames if f"{os.sep}seedcheck{os.sep}hook{os.sep}" in frame], frames
    plain = subprocess.run([sys.executable, "tests/scripts/raises_in_fit.py"], capture_output=True, text=True,
                           cwd=REPO, timeout=120)
    assert frames == [(os.path.join(REPO, f), line) for f, line in re.findall(r'File "([^"]+)", line (\d+)', plain.stderr)]


def as_plain_python_shows_it(stderr: str) -> str:
    """An error's report from its traceback on (TensorFlow's C++ log comes before it, when it
    comes), without blank lines and the numbers TF gives each function."""
    report = stderr[stderr.find("Traceback (most recent call last)"):]
    return re.sub(r"(__inference_\w+?)_\d+", r"\1", "\n".join(line for line in report.splitlines() if line.strip()))


@pytest.mark.parametrize("script", ["raises_in_function.py", "fails_in_fit_step.py --when trace",
                                    "fails_in_fit_step.py --when run"])
def test_an_error_tensorflow_raises_reads_as_in_a_plain_run(tmp_path, script):
    """TensorFlow and Keras cut their own frames from an error and keep the innermost one when none
    is left: seedcheck's wrapper of the call was left instead (its step wrapper, the last line of a
    shape error in fit). The op-creation stack TensorFlow quotes listed the runner under the
    script's line and the wrappers of fit. Now the whole report is the plain run's, line for line."""
    script, *args = script.split()
    path = f"tests/scripts/{script}"
    result = seedcheck_json("run", path, "--repeats", "1", *(["--", *args] if args else []), tmp_path=tmp_path,
                            timeout=120)
    assert result.code == 3
    hooked = as_plain_python_shows_it((tmp_path / "runs" / "own-1.stderr.log").read_text())
    assert "Traceback" in hooked and f"{os.sep}seedcheck{os.sep}" not in hooked, hooked
    plain = subprocess.run([sys.executable, path, *args], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert hooked == as_plain_python_shows_it(plain.stderr)
    if args == ["--when", "run"]:
        assert "Detected at node" in hooked and "<frozen runpy>" not in hooked


@pytest.mark.parametrize("how", ["plain", "chain", "counted", "group"])
def test_a_traceback_through_a_hook_wrapper_has_the_frames_of_a_plain_run(tmp_path, how):
    """The seeding wrapper sits between the script's call and the code that failed; a chained
    exception and an exception group's members carry it too (the group's members kept it)."""
    result = seedcheck("run", "tests/scripts/raises_through_the_hook.py", "--repeats", "1", "--save", tmp_path / "runs",
                       "-q", "--", how)
    assert result.code == 3
    logged = (tmp_path / "runs" / "own-1.stderr.log").read_text()
    plain = subprocess.run([sys.executable, "tests/scripts/raises_through_the_hook.py", how], capture_output=True,
                           text=True, cwd=REPO, timeout=60)
    def frames(text: str) -> list[tuple[str, str]]:
        return [(os.path.join(REPO, f), line) for f, line in re.findall(r'File "([^"]+)", line (\d+)', text)]
    assert frames(logged) == frames(plain.stderr) and len(frames(logged)) >= 3, logged


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


def test_run_that_dies_without_cleanup_leaves_a_readable_trace(tmp_path):
    result = seedcheck_json("run", "tests/scripts/dies_midway.py", "--repeats", "2", tmp_path=tmp_path, timeout=60)
    assert result.code == 3
    assert result.report["runs"][0]["problem"] == "exited with code 9"
    trace = read_trace(tmp_path / "runs" / "own-1.jsonl")
    assert [e.value for e in trace.events if e.kind == "seed"] == [7, 8]
    assert trace.find("exit") is None and not trace.torn_tail
    assert result.stage("seed/random.seed#2")["verdict"] == "reproducible"


def test_a_run_killed_by_sigkill_is_failed_with_its_signal_and_its_trace_kept(tmp_path):
    result = seedcheck_json("run", "tests/scripts/kills_itself.py", "--repeats", "2", tmp_path=tmp_path, timeout=60)
    assert result.code == 3
    assert [r["problem"] for r in result.report["runs"]] == ["killed by SIGKILL"] * 2
    trace = read_trace(tmp_path / "runs" / "own-1.jsonl")
    assert trace.find("exit") is None and not trace.torn_tail
    # The stages both runs reached are still judged.
    assert result.stage("seed/random.seed#1")["verdict"] == "reproducible"
    assert "killed by SIGKILL" in seedcheck("compare", tmp_path / "runs").stdout


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
    # `show` of the trace tells how the runner saw the run end, from the manifest beside it.
    shown = seedcheck("show", tmp_path / "runs" / "own-1.jsonl", env={"COLUMNS": "300"})
    assert "no exit event: the run did not finish; seedcheck run: timeout (timed out after 2s)" in shown.stdout


def test_timeout_ends_the_runs_process_group_grandchildren_included(tmp_path):
    result = seedcheck_json("run", "tests/scripts/spawns_sleeper.py", "--repeats", "1", "--timeout", "3",
                            tmp_path=tmp_path, timeout=60)
    assert result.code == 3
    run = result.report["runs"][0]
    assert run["status"] == "timeout" and run["problem"] == "timed out after 3s"
    assert [e.key for e in read_trace(tmp_path / "runs" / "own-1.jsonl").events][:2] == ["env", "seed/random.seed#1"]
    assert processes_marked(tmp_path) == [], "processes left behind"


# -- seedcheck stopped from outside ----------------------------------------------------------------


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
    for _ in range(40):  # a user pressing Ctrl-C again and again: the partial report is still printed
        time.sleep(0.02)
        if process.poll() is not None:
            break
        process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Interrupted" in stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["interrupted"] is True and report["exit_code"] == 130
    assert [r["status"] for r in report["runs"]] == ["interrupted", "skipped"]
    assert [e.key for e in read_trace(trace).events] == ["env", "seed/random.seed#1"]
    assert processes_marked(tmp_path) == [], "processes left behind"


def test_sigterm_ends_every_process_group_prints_a_partial_report_and_exits_143(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "seedcheck", "run", "tests/scripts/spawns_sleeper.py", "--repeats", "3",
         "--jobs", "2", "--save", str(tmp_path / "runs"), "--json", str(tmp_path / "report.json"), "-q"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    logs = [tmp_path / "runs" / f"own-{n}.stdout.log" for n in (1, 2)]
    _wait_for(lambda: all(log.exists() and "sleeper started" in log.read_text() for log in logs))
    # Two runs, each a hook process and the grandchild it started: the check can see them all.
    assert len(processes_marked(tmp_path)) >= 4
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 143, stderr
    assert "Terminated (SIGTERM): partial report" in " ".join(stdout.split())
    assert "Traceback" not in stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["exit_code"] == 143 and report["interrupted"] is True and report["terminated"] is True
    assert [r["status"] for r in report["runs"]] == ["interrupted", "interrupted", "skipped"]
    for n in (1, 2):  # what each run recorded before it was ended is still there
        keys = [e.key for e in read_trace(tmp_path / "runs" / f"own-{n}.jsonl").events]
        assert keys[:2] == ["env", "seed/random.seed#1"]
    assert processes_marked(tmp_path) == [], "processes left behind"


def test_a_signal_during_the_runs_is_a_request_acted_on_between_polls():
    """Ctrl-C and SIGTERM while runs execute only set a request: raised at any bytecode, the
    KeyboardInterrupt could land inside Popen.poll() and lose its waitpid lock for good."""
    from seedcheck.runner import Terminated, _StopRequests

    before = signal.getsignal(signal.SIGINT)
    # Python's own Ctrl-C handler, as under a terminal (pytest started as a background job, as CI
    # may start it, inherits SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with _StopRequests() as requests:
            os.kill(os.getpid(), signal.SIGINT)  # no KeyboardInterrupt here
            time.sleep(0.01)
            assert requests.received == signal.SIGINT
            with pytest.raises(KeyboardInterrupt) as raised:
                requests.raise_if_received()
            assert not isinstance(raised.value, Terminated)
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGINT)  # a later Ctrl-C does not turn a SIGTERM into exit 130
            time.sleep(0.01)
            with pytest.raises(Terminated):
                requests.raise_if_received()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a background job: Ctrl-C stays ignored
        with _StopRequests() as requests:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
            requests.raise_if_received()
            assert requests.received is None
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_run_whose_waitpid_lock_was_lost_is_still_ended_without_a_wait_for_good(monkeypatch):
    """The state an interrupt inside Popen.poll() leaves (its waitpid lock taken and never given
    back): ending the runs kills the process group and returns, where a plain wait() blocked."""
    from seedcheck import runner

    monkeypatch.setattr(runner, "KILL_GRACE_S", 0.2)
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    assert process._waitpid_lock.acquire(blocking=False)
    try:
        ending = threading.Thread(target=runner._end_groups, args=([process],), daemon=True)
        ending.start()
        ending.join(timeout=10)
        assert not ending.is_alive(), "_end_groups blocked on a run it could not reap"
    finally:
        process._waitpid_lock.release()
    assert process.wait(timeout=10) == -signal.SIGTERM


# -- scripts that do unusual things -----------------------------------------------------------------


def test_python_children_are_reported_as_not_traced_and_cannot_tear_the_trace(tmp_path):
    result = seedcheck_json("run", "tests/scripts/spawns_python.py", "--seed", "2", "--repeats", "2",
                            tmp_path=tmp_path, timeout=120)
    assert result.code == 0, result.stdout + result.stderr
    notes = [n for n in result.report["notes"] if n.startswith("child-not-traced")]
    assert len(notes) == 2, result.report["notes"]  # one subprocess, one multiprocessing; `true` is not Python
    assert any("subprocess child process, not traced" in n and "-c" in n for n in notes)
    assert any("multiprocessing child process, not traced" in n for n in notes)
    assert "seedcheck could not record everything: child-not-traced" in " ".join(result.stdout.split())
    trace = read_trace(tmp_path / "runs" / "s2-1.jsonl")
    assert not trace.torn_tail and trace.find("exit").value == 0
    # The forked worker inherited the hook: its draw must not appear in the parent's trace.
    assert [e.key for e in trace.events if e.kind == "rng"] == [e.key for e in read_trace(
        tmp_path / "runs" / "s2-2.jsonl").events if e.kind == "rng"]


def test_stdin_cwd_megabytes_and_invalid_utf8_are_handled(tmp_path):
    result = seedcheck_json("run", "tests/scripts/unruly_io.py", "--seed", "3", "--repeats", "2",
                            tmp_path=tmp_path, timeout=120)
    assert result.code == 0, result.stdout + result.stderr
    stdout_log = (tmp_path / "runs" / "s3-1.stdout.log").read_bytes()
    assert len(stdout_log) > 3 * 1024 * 1024 and b"not utf-8: \xff\xfe" in stdout_log
    assert b"stdin had 0 bytes" in stdout_log
    assert b"\xc3\x28" in (tmp_path / "runs" / "s3-1.stderr.log").read_bytes()
    assert result.stage("seed/random.seed#1")["verdict"] == "reproducible"


# -- a script that never imports TensorFlow ------------------------------------------------------------

def test_a_script_without_tensorflow_still_gets_its_draws_artifacts_and_exit_checked(tmp_path):
    order = tmp_path / "order_{seed}.txt"
    args = ["run", SCRIPTS / "py_shuffle.py", "--seed", "5", "--repeats", "2", "--artifact", order]
    unseeded = seedcheck_json(*args, "--", "--out", order, tmp_path=tmp_path / "unseeded")
    assert unseeded.code == 1, unseeded.stdout + unseeded.stderr
    assert unseeded.stages("shuffle/random.shuffle")[0]["verdict"] == "diverged"
    assert unseeded.stage(f"output/{order}")["verdict"] == "diverged"
    assert unseeded.stage("exit")["verdict"] == "reproducible"
    assert "TensorFlow not used" in seedcheck("compare", tmp_path / "unseeded" / "runs").stdout
    seeded = seedcheck_json(*args, "--", "--out", order, "--seeded", tmp_path=tmp_path / "seeded")
    assert seeded.code == 0, seeded.stdout
    assert {s["verdict"] for s in seeded.report["stages"]} == {"reproducible"}
    assert not any(key.startswith(("weights/", "init/", "data/")) for key in (s["key"] for s in seeded.report["stages"]))


# -- bad input: one line on stderr naming the problem, exit 2, never a traceback -------------------


def assert_one_line_error(result, *words: str) -> None:
    assert result.code == 2, (result.code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("seedcheck: error: ")
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "no_such_script.py"], ["no such script: no_such_script.py"]),
        (["run", "sample_scripts"], ["sample_scripts is a directory without __main__.py"]),
        (["run"], ["give a script to run"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--frobnicate"], ["--frobnicate", "--help"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--seed", "abc"], ["--seed", "abc"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--seed", "-1"], ["--seed -1", "between 0 and"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--repeats", "0"], ["--repeats"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--timeout", "0"], ["--timeout"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--format", "xml"], ["--format"]),
        (["run", "tests/scripts/python_seeding.py", "--force-seed"], ["--force-seed", "--seed N"]),
        (["run", "-m", "no_such_module_xyz"], ["no module named 'no_such_module_xyz'"]),
        (["frobnicate"], ["frobnicate"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--rtol", "nan"], ["--rtol", "not a finite number"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--timeout", "inf"], ["--timeout", "not a finite number"]),
        (["compare", "x.jsonl", "--atol", "inf"], ["--atol", "not a finite number"]),
        (["show", "x.jsonl", "--kind", "weight"], ["--kind", "'weight' is not one of"]),
    ],
)
def test_bad_arguments(args, words):
    assert_one_line_error(seedcheck(*args), *words)


def test_non_python_file(tmp_path):
    binary = tmp_path / "weights.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    assert_one_line_error(seedcheck("run", binary), "is not a Python script")
    text = tmp_path / "notes.txt"
    text.write_text("this is not python at all\n")
    assert_one_line_error(seedcheck("run", text), "is not a Python script (line 1)")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__main__.py").write_text("def main(:\n")
    assert_one_line_error(seedcheck("run", package), "__main__.py: syntax error at line 1: ")
    typo = tmp_path / "train.py"
    typo.write_text("import numpy\nprint(numpy.ones(3)\n")
    assert_one_line_error(seedcheck("run", typo), "train.py: syntax error at line 2: '(' was never closed")


def test_save_directory_with_old_traces_is_refused_unless_forced(tmp_path):
    args = ["run", "tests/scripts/python_seeding.py", "--repeats", "1", "--save", tmp_path, "-q"]
    assert seedcheck(*args).code == 0
    assert_one_line_error(seedcheck(*args), "already holds", "--force")
    assert seedcheck(*args, "--force").code == 0
    assert sorted(p.name for p in tmp_path.glob("*.jsonl")) == ["own-1.jsonl"]


def test_unwritable_save_directory(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert_one_line_error(seedcheck("run", "tests/scripts/python_seeding.py", "--save", blocker / "runs"),
                          "cannot write to --save")


@pytest.mark.parametrize("option", ["--json", "--junit", "--markdown"])
def test_a_report_file_that_cannot_be_written_is_refused_before_any_run(tmp_path, option):
    """Not after an hour of training, with the verdict lost and its exit code turned into 2."""
    (tmp_path / "a_file").write_text("")
    result = seedcheck("run", "tests/scripts/python_seeding.py", "--repeats", "1", "--save", tmp_path / "r", "-q",
                       option, tmp_path / "a_file" / "report")
    assert_one_line_error(result, option, "is not a directory")
    assert not (tmp_path / "r").exists()
    # A directory that does not exist yet is made, as pytest makes --junitxml's.
    made = seedcheck("run", "tests/scripts/python_seeding.py", "--repeats", "1", "--save", tmp_path / "r", "-q",
                     option, tmp_path / "reports" / "ci" / "report")
    assert made.code == 0, made.stderr
    assert (tmp_path / "reports" / "ci" / "report").is_file()
    # A name the system refuses, in a directory still to be made: one line, and nothing left behind.
    too_long = seedcheck("run", "tests/scripts/python_seeding.py", "-q", option,
                         tmp_path / "new" / "deeper" / ("a" * 300 + ".report"))
    assert_one_line_error(too_long, option, "File name too long")
    assert not (tmp_path / "new").exists()
    deep = seedcheck("run", "tests/scripts/python_seeding.py", "-q", option,
                     tmp_path / "new" / "deeper" / ("d" * 300) / "report")  # the too-long name is a directory's
    assert_one_line_error(deep, option, "File name too long")
    assert not (tmp_path / "new").exists()


def test_force_replaces_earlier_runs_files_and_nothing_else(tmp_path):
    """`--save . --force` must not delete the user's own .jsonl data or .log files."""
    save = tmp_path / "out"
    save.mkdir()
    (save / "data.jsonl").write_text('{"a": 1}\n')
    (save / "train.log").write_text("mine\n")
    args = ["run", "tests/scripts/python_seeding.py", "--seed", "1", "--repeats", "2", "--save", save, "-q"]
    assert seedcheck(*args).code == 0  # the user's files alone do not block a first run
    (save / "s1-2" / "model.bin").write_bytes(b"an output of the old run")
    assert_one_line_error(seedcheck(*args), "already holds", "--force")
    assert seedcheck(*args[:5], "1", *args[6:], "--force").code == 0  # now one run: the old s1-2 files go
    assert sorted(p.name for p in save.iterdir()) == ["data.jsonl", "s1-1", "s1-1.jsonl", "s1-1.stderr.log",
                                                       "s1-1.stdout.log", "seedcheck-run.json", "train.log"]
    assert (save / "data.jsonl").read_text() == '{"a": 1}\n' and (save / "train.log").read_text() == "mine\n"


def test_a_file_of_the_users_where_a_run_would_write_is_never_overwritten(tmp_path):
    (tmp_path / "s1-1.stdout.log").write_text("mine\n")
    result = seedcheck("run", "tests/scripts/python_seeding.py", "--seed", "1", "--repeats", "1", "--save", tmp_path,
                       "--force", "-q")
    assert_one_line_error(result, "s1-1.stdout.log", "not written by seedcheck")
    assert (tmp_path / "s1-1.stdout.log").read_text() == "mine\n"


def test_show_reads_a_trace_even_under_a_broken_pyproject(tmp_path):
    recorded = seedcheck("run", "tests/scripts/python_seeding.py", "--seed", "1", "--repeats", "1", "--save",
                         tmp_path / "r", "-q")
    assert recorded.code == 0, recorded.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.seedcheck]\nrepeats = "x"\n')
    assert seedcheck("show", tmp_path / "r" / "s1-1.jsonl", cwd=tmp_path).code == 0
    assert seedcheck("run", "x.py", cwd=tmp_path).code == 2  # the commands that read it still refuse it


@pytest.mark.parametrize("command", ["run", "vary", "compare", "report"])
def test_help_shows_under_a_broken_pyproject_and_the_command_still_refuses_it(tmp_path, command):
    (tmp_path / "pyproject.toml").write_text('[tool.seedcheck]\nrepeats = "x"\n')
    shown = seedcheck(command, "--help", cwd=tmp_path)
    assert shown.code == 0 and shown.stdout.startswith(f"Usage: seedcheck {command} "), shown.stderr
    assert "[tool.seedcheck]" not in shown.stderr
    assert_one_line_error(seedcheck(command, "x.py", cwd=tmp_path), 'repeats: expected a whole number ≥ 1, got "x"')


def test_an_artifact_no_run_writes_fails_the_check(tmp_path):
    result = seedcheck("run", "tests/scripts/python_seeding.py", "--seed", "1", "--repeats", "2", "--save", tmp_path,
                       "--artifact", "out/never.bin", "-q")
    assert result.code == 1, result.stdout + result.stderr
    assert "no run wrote it" in result.stdout and "missing" in result.stdout


def test_a_script_that_ends_its_own_process_gets_the_same_verdict_from_run_and_compare(tmp_path):
    """os._exit(0) skips the hook's end: the runner writes the exit event, so a later compare or
    --baseline reads the same story instead of calling the runs incomplete (exit 3)."""
    args = ["--seed", "1", "--repeats", "2", "-q"]
    ran = seedcheck("run", SCRIPTS / "ends_with_os_exit.py", *args, "--save", tmp_path / "r")
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "os._exit" in ran.stdout
    again = seedcheck("report", tmp_path / "r")
    assert again.code == 0, again.stdout + again.stderr
    held = seedcheck("run", SCRIPTS / "ends_with_os_exit.py", *args, "--save", tmp_path / "h",
                     "--baseline", tmp_path / "r")
    assert held.code == 0, held.stdout + held.stderr


def test_a_trace_given_twice_is_counted_once(tmp_path):
    """Overlapping paths or globs would hold a run to itself and always pass."""
    recorded = seedcheck("run", SCRIPTS / "py_shuffle.py", "--seed", "1", "--repeats", "1", "--save", tmp_path, "-q")
    assert recorded.code == 0, recorded.stderr
    trace = tmp_path / "s1-1.jsonl"
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "s1-1.jsonl").write_bytes(trace.read_bytes())
    result = seedcheck("compare", trace, trace, copy / "s1-1.jsonl", env={"COLUMNS": "400"})
    assert result.code == 0, result.stdout + result.stderr
    assert "given twice; counted once" in result.stdout and f"a copy of {trace}" in result.stdout
    assert "One run per seed" in result.stdout


# -- traces given to compare ---------------------------------------------------------------------------

def _saved_runs(tmp_path, script="py_shuffle.py", name="runs"):
    result = seedcheck("run", SCRIPTS / script, "--seed", "1", "--repeats", "2", "--save", tmp_path / name, "-q")
    assert result.code in (0, 1), result.stderr
    return tmp_path / name


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty file, not a seedcheck trace"),
    (b"\x89PNG\r\n\x1a\n", "not a seedcheck trace"),
    (b"this is not json\n", "not a seedcheck trace"),
    (b'{"hello": "world"}\n', "not a seedcheck trace (no seedcheck_trace header on line 1)"),
    (b'{"seedcheck_trace": 2, "run": "s1#1", "seed": 1}\n', "trace format 2 was written by a newer seedcheck"),
])
def test_unreadable_traces_are_one_line_and_exit_2(tmp_path, content, message):
    trace = tmp_path / "run.jsonl"
    trace.write_bytes(content)
    for args in (("compare", trace), ("show", trace), ("compare", SCRIPTS, "--baseline", trace)):
        result = seedcheck(*args)
        assert result.code == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith("seedcheck: error: "), result.stderr
        if args[0] == "compare" and len(args) == 2:
            assert message in result.stderr, result.stderr


def test_missing_and_empty_directories_are_one_line_and_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    for path, message in ((tmp_path / "empty", "holds no seedcheck traces"), (tmp_path / "absent", "no such trace")):
        result = seedcheck("compare", path)
        assert result.code == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_a_truncated_trace_is_read_up_to_the_cut_and_its_run_marked_incomplete(tmp_path):
    runs = _saved_runs(tmp_path)
    second = runs / "s1-2.jsonl"
    second.write_bytes(second.read_bytes()[:-25])  # the exit event cut mid-line, as a crash mid-write leaves it
    (runs / MANIFEST).unlink()  # judge by the traces alone
    result = seedcheck("compare", runs, "--json", tmp_path / "report.json")
    assert result.code == 3, result.stdout + result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["runs"][1]["status"] == "failed"
    assert "last line was cut short" in report["runs"][1]["problem"]
    shuffle = [s for s in report["stages"] if s["key"].startswith("shuffle/")][0]
    assert set(shuffle["values"]) == {"s1#1", "s1#2"}  # the events before the cut are still compared


def test_compare_of_different_scripts_warns_and_labels_the_runs(tmp_path):
    first, second = _saved_runs(tmp_path, "py_shuffle.py", "a"), _saved_runs(tmp_path, "python_seeding.py", "b")
    result = seedcheck("compare", first, second, "--json", tmp_path / "report.json")
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["warnings"][0].startswith("these runs come from different scripts:")
    assert "these runs come from different scripts" in " ".join(result.stdout.split())
    assert [run["name"] for run in report["runs"]] == ["a:s1#1", "a:s1#2", "b:s1#1", "b:s1#2"]


def test_a_hostile_trace_is_shown_as_text_and_nothing_in_it_is_executed(tmp_path):
    runs = _saved_runs(tmp_path)
    canary = tmp_path / "canary"
    hostile = {
        "site": f"\x1b]0;retitled\x07\x1b[2J[bold red]x[/]__import__('os').system('touch {canary}').py:1",
        "value": "$(touch " + str(canary) + ") `touch " + str(canary) + "`",
    }
    lines = (runs / "s1-2.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    for event in events[1:]:
        if event["kind"] == "shuffle":
            event["site"] = hostile["site"]
            event["key"] = f"shuffle/random.shuffle@{hostile['site']}#1"
            event["value"] = hostile["value"]
    events[0]["target"] = hostile["site"]
    (runs / "s1-2.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    for args in (("compare", runs), ("show", runs / "s1-2.jsonl"), ("compare", runs, "--format", "markdown")):
        colour = {"FORCE_COLOR": "1", "COLUMNS": "250"} if args[0] == "compare" and len(args) == 2 else None
        result = seedcheck(*args, env=colour)
        assert result.code == (0 if args[0] == "show" else 1), (args, result.stderr)
        assert "Traceback" not in result.stderr
        text = result.stdout
        assert "\x1b]" not in text and "\x1b[2J" not in text and "\x07" not in text, args
        assert "[bold red]x[/]" in text or "\\[bold red]" in text, args  # markup shown, not applied
        assert "retitled" in text, args
    assert not canary.exists()


def test_html_without_matplotlib_is_refused_before_any_run(tmp_path):
    blocked = tmp_path / "blocked" / "matplotlib"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    result = seedcheck("run", "tests/scripts/python_seeding.py", "--save", tmp_path / "runs", "--html",
                       tmp_path / "r.html", env={"PYTHONPATH": str(blocked.parent)})
    assert_one_line_error(result, "--html needs matplotlib", "pip install 'seedcheck[html]'")
    assert not (tmp_path / "runs").exists()  # refused before a single run


@pytest.mark.parametrize("name", ["../precious.jsonl", ".jsonl", "/tmp/seedcheck-never-here.jsonl", "..jsonl"])
def test_force_never_follows_a_manifest_outside_its_directory(tmp_path, name):
    """A manifest comes with saved runs from anywhere: its trace names must not steer --force."""
    save = tmp_path / "save"
    args = ["run", "tests/scripts/python_seeding.py", "--seed", "1", "--repeats", "1", "--save", save, "-q"]
    assert seedcheck(*args).code == 0
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "data.txt").write_text("keep")
    (save / "notes.txt").write_text("keep")
    manifest = json.loads((save / "seedcheck-run.json").read_text())
    manifest["runs"].append({"name": "x", "seed": 1, "status": "ok", "trace": name})
    (save / "seedcheck-run.json").write_text(json.dumps(manifest))
    result = seedcheck(*args, "--force")
    assert result.code == 0, result.stderr
    assert (tmp_path / "precious" / "data.txt").read_text() == "keep" and (save / "notes.txt").read_text() == "keep"


def test_a_baseline_deeper_in_the_save_directory_is_still_held_to(tmp_path):
    """Only the traces --force replaces are re-recorded; a baseline elsewhere under --save is kept."""
    golden = tmp_path / "ci" / "golden"
    assert seedcheck("run", "tests/scripts/python_seeding.py", "--seed", "1", "--repeats", "1", "--save", golden,
                     "-q").code == 0
    (tmp_path / "ci" / "old.stdout.log").write_text("")
    held = seedcheck("run", "tests/scripts/python_seeding.py", "--repeats", "1", "--save", tmp_path / "ci", "--force",
                     "--baseline", golden, "-q", env={"COLUMNS": "300"})
    assert held.code == 0, held.stdout + held.stderr
    assert "re-recording" not in held.stderr and "base:s1#1" in held.stdout and golden.is_dir()


def test_a_report_file_that_fails_at_the_end_keeps_the_report_and_the_verdict(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    reproducible = seedcheck("run", "tests/scripts/python_seeding.py", "--seed", "1", "--repeats", "2", "--save",
                             tmp_path / "a", "-q", "--json", "/dev/full")
    assert reproducible.code == 2 and "Reproducible" in reproducible.stdout
    assert reproducible.stderr.strip() == "seedcheck: error: cannot write /dev/full: No space left on device"
    diverged = seedcheck("run", SCRIPTS / "py_shuffle.py", "--seed", "1", "--repeats", "2", "--save", tmp_path / "b",
                         "-q", "--junit", "/dev/full")
    assert diverged.code == 1 and "cannot write /dev/full" in diverged.stderr  # the runs' verdict is kept


def test_a_run_that_ended_by_itself_as_the_check_was_stopped_keeps_its_outcome(tmp_path):
    """Ctrl-C (or --fail-fast) landing between a run's end and the runner's next poll: that run
    finished (or crashed) on its own, and is counted so; a run the signal ended is not, even if it
    then exits 0."""
    from seedcheck.runner import Runner, RunPlan, Target

    script = tmp_path / "ends_or_waits.py"
    script.write_text("import os, signal, sys, time\n"
                      "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # answers the stop with 0\n"
                      "if os.environ['SEEDCHECK_RUN'] == 'own#2':\n    time.sleep(60)\n"
                      "if os.environ['SEEDCHECK_RUN'] == 'own#3':\n    sys.exit(4)\n")
    plan = RunPlan(target=Target(script=str(script), module=None), seeds=[None], repeats=3,
                   save_dir=tmp_path / "runs", jobs=3)
    plan.save_dir.mkdir()
    runner = Runner(plan)
    for spec in plan.runs:
        runner._start(spec)
    for name in ("own#1", "own#3"):
        runner._running[name].process.wait(timeout=60)  # ended, not yet seen by the runner's poll
    time.sleep(1.5)  # own#2 is in its sleep, its SIGTERM handler set
    results: dict = {}
    runner._end_all("interrupted", "interrupted", results)
    assert results["own#1"].status == "ok" and results["own#1"].trace.find("exit").value == 0
    assert results["own#2"].status == "interrupted"
    assert results["own#3"].status == "failed" and results["own#3"].exit_code == 4  # its crash, not the stop
