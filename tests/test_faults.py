"""Faults: seedcheck stopped from outside, runs that die or hang. Whatever happens, the evidence
recorded so far stays readable, the report says what happened, and no process is left behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO, processes_marked, seedcheck, seedcheck_json

from seedcheck.trace import read_trace

pytestmark = pytest.mark.e2e


def _wait_for(predicate, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.1)
    assert predicate(), "timed out waiting"


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


def test_timeout_ends_the_runs_process_group_grandchildren_included(tmp_path):
    result = seedcheck_json("run", "tests/scripts/spawns_sleeper.py", "--repeats", "1", "--timeout", "3",
                            tmp_path=tmp_path, timeout=60)
    assert result.code == 3
    run = result.report["runs"][0]
    assert run["status"] == "timeout" and run["problem"] == "timed out after 3s"
    assert [e.key for e in read_trace(tmp_path / "runs" / "own-1.jsonl").events][:2] == ["env", "seed/random.seed#1"]
    assert processes_marked(tmp_path) == [], "processes left behind"


def test_a_run_killed_by_sigkill_is_failed_with_its_signal_and_its_trace_kept(tmp_path):
    result = seedcheck_json("run", "tests/scripts/kills_itself.py", "--repeats", "2", tmp_path=tmp_path, timeout=60)
    assert result.code == 3
    assert [r["problem"] for r in result.report["runs"]] == ["killed by SIGKILL"] * 2
    trace = read_trace(tmp_path / "runs" / "own-1.jsonl")
    assert trace.find("exit") is None and not trace.torn_tail
    # The stages both runs reached are still judged.
    assert result.stage("seed/random.seed#1")["verdict"] == "reproducible"
    assert "killed by SIGKILL" in seedcheck("compare", tmp_path / "runs").stdout


def test_stdin_cwd_megabytes_and_invalid_utf8_are_handled(tmp_path):
    result = seedcheck_json("run", "tests/scripts/unruly_io.py", "--seed", "3", "--repeats", "2",
                            tmp_path=tmp_path, timeout=120)
    assert result.code == 0, result.stdout + result.stderr
    stdout_log = (tmp_path / "runs" / "s3-1.stdout.log").read_bytes()
    assert len(stdout_log) > 3 * 1024 * 1024 and b"not utf-8: \xff\xfe" in stdout_log
    assert b"stdin had 0 bytes" in stdout_log
    assert b"\xc3\x28" in (tmp_path / "runs" / "s3-1.stderr.log").read_bytes()
    assert result.stage("seed/random.seed#1")["verdict"] == "reproducible"


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
