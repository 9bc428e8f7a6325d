"""Checks that cost less than full runs: --max-steps ends training after exactly N optimizer steps
with a complete, readable trace; --fail-fast stops once a divergence is certain."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO, SAMPLES, seedcheck, seedcheck_json
from seedcheck.trace import read_trace

pytestmark = pytest.mark.e2e


# The fit case also names the weights file the script would save after training, which the stop
# keeps it from writing: 'not reached', not a failure.
SAVED_AFTER_TRAINING = ["--artifact", "{run_dir}/weights.npz", "--", "--save-weights", "{run_dir}/weights.npz"]


@pytest.mark.parametrize(("script", "data_key", "extra"), [
    ("classifier_fully_seeded.py", "data/fit#1/epoch-1", SAVED_AFTER_TRAINING),
    ("custom_loop.py", "data/loop@sample_scripts/custom_loop.py:55/pass-1", []),  # a GradientTape loop in a tf.function
    # every step's weights, buffered in the graph: the stop comes with the buffer part-filled
    ("custom_loop.py", "data/loop@sample_scripts/custom_loop.py:55/pass-1", ["--every", "1"]),
])
def test_max_steps_stops_training_at_exactly_n_steps(tmp_path, script, data_key, extra):
    result = seedcheck_json("run", SAMPLES / script, "--seed", "1", "--repeats", "2", "--max-steps", "7", *extra,
                            tmp_path=tmp_path, env={"TF_CPP_MIN_LOG_LEVEL": "1"})  # TF's warnings kept: see below
    assert result.code == 0, result.stdout + result.stderr
    assert "training stopped after 7 steps (--max-steps)" in " ".join(result.stdout.split())
    trace = read_trace(tmp_path / "runs" / "s1-1.jsonl")
    assert not trace.torn_tail
    exit_event = trace.find("exit")
    assert exit_event is not None and exit_event.value == 0
    assert exit_event.detail["steps"] == 7 and exit_event.detail["stopped"] is True
    data = trace.find(data_key)
    assert data is not None and data.detail["batches"] == 7  # the batches of exactly 7 steps, no more
    assert trace.find("data/fit#1/epoch-2") is None
    assert result.stage(data_key)["verdict"] == "reproducible"
    assert [s["key"] for s in result.report["stages"] if s["key"].startswith("weights/final/")]
    # The stop is seedcheck's, not an error: nothing of it in the script's own log (TensorFlow logs
    # an exception raised in a py_function, with its traceback, unless it is a StopIteration).
    assert "MaxStepsReached" not in (tmp_path / "runs" / "s1-1.stderr.log").read_text()
    if "--every" in extra:
        assert [e.key for e in trace.events if e.key.startswith("weights/step-")] == \
            [f"weights/step-{n}" for n in range(1, 8)]
    if "--artifact" in extra:
        stage = result.stage("output/{run_dir}/weights.npz")
        assert stage["verdict"] == "missing" and stage["fails"] is False and stage["detail"]["not_reached"] is True
        assert result.report["first_divergence"] is None
        shown = " ".join(result.stdout.split())
        assert "not reached (--max-steps)" in shown and "check the path" not in shown


def test_fail_fast_stops_a_diverging_check_before_the_third_run_finishes(tmp_path):
    result = seedcheck_json("run", SAMPLES / "classifier_tf_seed_only.py", "--seed", "1", "--repeats", "3",
                            "--fail-fast", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    runs = result.report["runs"]
    assert [r["status"] for r in runs] == ["ok", "stopped", "skipped"]
    assert result.report["stopped_early"] is True
    assert result.report["first_divergence"]["key"].startswith("init/")
    assert result.report["first_divergence"]["rule"] == "keras3-initializers"
    # The second run was stopped at its first weights, long before the end of its training: its
    # trace ends before the first epoch. (Its wall time is not compared with the first run's: this
    # sample trains for ~1 s after a ~4 s start-up, and on a loaded machine the two cross.)
    stopped = read_trace(tmp_path / "runs" / "s1-2.jsonl")
    assert stopped.find("exit") is None and stopped.find("data/fit#1/epoch-1") is None
    assert not [event for event in stopped.events if event.kind in ("data", "metrics")], stopped.events[-3:]
    assert not (tmp_path / "runs" / "s1-3.jsonl").exists()
    # Stages only the first run reached are not "missing": the stop was by design.
    assert not [s for s in result.report["stages"] if s["verdict"] == "missing"]
    # The manifest says how the check ended: `report` of the directory tells the same story.
    manifest = json.loads((tmp_path / "runs" / "seedcheck-run.json").read_text())
    assert manifest["stopped_early"] is True and manifest["interrupted"] is False
    again = seedcheck("report", tmp_path / "runs", "--json", tmp_path / "again.json")
    assert again.code == 1, again.stderr
    reported = json.loads((tmp_path / "again.json").read_text())
    assert reported["stopped_early"] is True
    assert [r["status"] for r in reported["runs"]] == ["ok", "stopped", "skipped"]


def test_fail_fast_lets_a_run_whose_script_has_ended_finish_its_shutdown(tmp_path):
    """The divergence is in the second run's exit event, written before Python's shutdown: it was
    killed there and reported as stopped while its table said how it exited. It ends by itself now."""
    result = seedcheck_json("run", "tests/scripts/slow_to_shut_down.py", "--repeats", "3", "--fail-fast",
                            tmp_path=tmp_path)
    assert result.code == 3, result.stdout + result.stderr  # the second run failed (exit 4), as it would have
    assert [(r["status"], r["exit_code"]) for r in result.report["runs"]] == [("ok", 0), ("failed", 4),
                                                                             ("skipped", None)]
    assert result.report["stopped_early"] is True and result.stage("exit")["verdict"] == "diverged"


def test_parallel_runs_write_to_their_own_directories(tmp_path):
    result = seedcheck_json("run", SAMPLES / "classifier_fully_seeded.py", "--seed", "1", "--repeats", "3",
                            "--jobs", "2", "--artifact", "{run_dir}/weights.npz",
                            "--", "--epochs", "1", "--save-weights", "{run_dir}/weights.npz", tmp_path=tmp_path)
    assert result.code == 0, result.stdout + result.stderr
    assert result.report["jobs"] == 2
    assert "2 at a time" in " ".join(result.stdout.split())
    files = [tmp_path / "runs" / f"s1-{i}" / "weights.npz" for i in (1, 2, 3)]
    assert all(f.exists() for f in files)
    artifact = result.stage("output/{run_dir}/weights.npz")
    assert artifact["verdict"] == "reproducible" and len(artifact["values"]) == 3
    # The first two runs started together (a run takes seconds; one after the other they could not).
    import datetime

    started = [datetime.datetime.fromisoformat(read_trace(tmp_path / "runs" / f"s1-{i}.jsonl").header["started"])
               for i in (1, 2)]
    assert abs((started[1] - started[0]).total_seconds()) <= 1
    assert all(run["duration_s"] > 2 for run in result.report["runs"])


def test_max_steps_in_an_epoch_traced_into_one_function_takes_exactly_n_steps(tmp_path):
    """The epoch's loop runs in the graph: the stop raised at step 7 left it while step 8 was taken
    (the trace said 8 steps, and the final weights were those of 8). The same script trained on 7
    batches without --max-steps ends with the same weights, bit for bit."""
    script = "tests/scripts/epoch_in_graph.py"
    stopped = seedcheck("run", script, "--repeats", "1", "--max-steps", "7", "--save", tmp_path / "stopped", "-q")
    assert stopped.code == 0, stopped.stdout + stopped.stderr
    seven = seedcheck("run", script, "--repeats", "1", "--save", tmp_path / "seven", "-q", "--", "--take", "7",
                      "--epochs", "1")
    assert seven.code == 0, seven.stdout + seven.stderr
    trace, plain = read_trace(tmp_path / "stopped" / "own-1.jsonl"), read_trace(tmp_path / "seven" / "own-1.jsonl")
    assert trace.find("exit").detail["steps"] == 7 and trace.find("exit").detail["stopped"] is True
    assert trace.find("weights/step-7") is not None
    assert trace.find("weights/final/sequential#1").value == plain.find("weights/final/sequential#1").value


def test_max_steps_with_two_optimizers_keeps_every_snapshot_and_ends_cleanly(tmp_path):
    result = seedcheck_json("run", "tests/scripts/two_optimizers.py", "--repeats", "2", "--every", "1",
                            "--max-steps", "7", tmp_path=tmp_path)
    assert result.code == 0, result.stdout + result.stderr
    trace = read_trace(tmp_path / "runs" / "own-1.jsonl")
    steps = sorted(int(e.key.split("-")[-1]) for e in trace.events if e.key.startswith("weights/step-"))
    assert steps == list(range(1, 8))  # the other optimizer's waiting snapshots are not lost at the stop
    assert trace.find("exit").detail["stopped"] is True


def test_two_optimizers_in_one_function_get_their_snapshots_in_graph(tmp_path):
    """A GAN's step: both optimizers in one tf.function. The second one's weights layout replaced the
    first's, so a retrace made new snapshot variables, which TF refuses (a hook error, no steps)."""
    result = seedcheck_json("run", "tests/scripts/two_optimizers.py", "--repeats", "2", "--every", "5",
                            "--", "--together", tmp_path=tmp_path)
    assert result.code == 0, result.stdout + result.stderr
    assert not result.stages("note/hook-error")
    assert [s["key"] for s in result.stages("weights/step-")] == [f"weights/step-{n}" for n in range(5, 33, 5)]


def test_steps_of_a_function_called_from_python_are_counted_without_graph_ops(tmp_path):
    """One call of a tf.function step is one step: the hook adds nothing to its graph (same op count
    as a plain run), yet snapshots land on the right global step, also once the step is called from
    inside another function, where it is counted in-graph."""
    script = "tests/scripts/counted_steps.py"
    plain = subprocess.run([sys.executable, script], cwd=REPO, check=True, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL).stdout
    result = seedcheck("run", script, "--seed", "1", "--repeats", "1", "--every", "50", "--save", tmp_path / "runs", "-q")
    assert result.code == 0, result.stdout + result.stderr
    hooked = (tmp_path / "runs" / "s1-1.stdout.log").read_text()
    ops = [line for line in plain.splitlines() if line.startswith("ops in")]
    assert ops and ops[0] in hooked.splitlines()
    trace = read_trace(tmp_path / "runs" / "s1-1.jsonl")
    assert [e.key for e in trace.events if e.key.startswith("weights/step-")] == ["weights/step-50", "weights/step-100"]
    assert [e for e in trace.events if e.kind == "exit"][0].value == 0


def test_a_jit_compiled_step_gets_per_step_weights_and_stops_at_max_steps(tmp_path):
    result = seedcheck_json("run", "tests/scripts/counted_steps.py", "--repeats", "2", "--every", "3",
                            "--max-steps", "7", "--", "--jit-compile", tmp_path=tmp_path)
    assert result.code == 0, result.stdout
    assert [s["key"] for s in result.stages("weights/step-")] == ["weights/step-3", "weights/step-6", "weights/step-7"]
    assert {s["verdict"] for s in result.stages("weights/")} == {"reproducible"}
    trace = read_trace(sorted((tmp_path / "runs").glob("*.jsonl"))[0])
    (exit_event,) = [e for e in trace.events if e.kind == "exit"]
    assert exit_event.detail["steps"] == 7 and exit_event.detail["stopped"] is True
    assert not [e for e in trace.events if e.kind == "note" and "XLA" in str(e.value)]


def test_every_step_of_a_function_called_from_python_is_snapshotted_once_in_order(tmp_path):
    """--every 1: the step's graph writes each step's summary to a buffer with no cond, Python takes
    it after the calls; the calls nested in another function are handed over by the graph."""
    result = seedcheck("run", "tests/scripts/counted_steps.py", "--seed", "1", "--repeats", "1", "--every", "1",
                       "--save", tmp_path / "runs", "-q")
    assert result.code == 0, result.stdout + result.stderr
    trace = read_trace(tmp_path / "runs" / "s1-1.jsonl")
    steps = [e for e in trace.events if e.key.startswith("weights/step-")]
    assert [e.key for e in steps] == [f"weights/step-{n}" for n in range(1, 101)]
    assert [e.detail["step"] for e in steps] == list(range(1, 101))
    (final,) = [e for e in trace.events if e.key.startswith("weights/final/")]
    assert [v["sample"] for v in steps[-1].detail["variables"]] == [v["sample"] for v in final.detail["variables"]]
    assert steps[-2].detail["variables"][0]["sample"] != steps[-1].detail["variables"][0]["sample"]


def test_an_error_after_the_max_steps_stop_is_the_scripts_failure(tmp_path):
    """The stop ends training; a save in the script's `finally` then fails. That error is the
    script's (exit 1, as under python), not the stop's clean end."""
    result = seedcheck("run", "tests/scripts/fails_after_the_stop.py", "--repeats", "1", "--max-steps", "3",
                       "--save", tmp_path, "-q")
    assert result.code == 3, result.stdout + result.stderr
    exit_event = read_trace(tmp_path / "own-1.jsonl").find("exit")
    assert exit_event.value == 1 and exit_event.detail["exception"] == "FileNotFoundError"
    assert exit_event.detail["stopped"] is True
    assert "FileNotFoundError" in (tmp_path / "own-1.stderr.log").read_text()
