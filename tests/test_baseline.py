"""baseline.options_against_baseline: a check held to a baseline runs with the options the baseline
was recorded with (--every, --max-steps, --no-override, --force-seed), or is refused before any run.

Unit tests over in-memory traces, then the command line on a script that never imports TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SCRIPTS, seedcheck
from test_saved import one_line_error
from seedcheck.baseline import options_against_baseline, recorded_options, taken_from_baseline
from seedcheck.compare import RunResult
from seedcheck.saved import Source
from seedcheck.trace import TRACE_FORMAT, Event, Trace
from seedcheck.usage import UsageProblem

NOT_GIVEN = {"--every": None, "--max-steps": None, "--no-override": False, "--force-seed": False}


def baseline_of(*exits: dict | None, every: int | None = None, override: bool = True, force_seed: bool = False) -> Source:
    """A baseline whose runs (one per `exits` entry: its exit detail, None for no exit event) were
    recorded with these options."""
    runs = []
    for index, detail in enumerate(exits, start=1):
        header = {"seedcheck_trace": TRACE_FORMAT, "run": f"s1#{index}", "seed": 1, "target": "train.py",
                  "command": ["train.py"], "override": override, "force_seed": force_seed, "every": every}
        events = [Event("exit", "exit", 0, detail=detail)] if detail is not None else []
        trace = Trace(path=Path(f"s1-{index}.jsonl"), header=header, events=events)
        runs.append(RunResult(f"s1#{index}", 1, status="ok", exit_code=0, trace=trace))
    return Source(Path("golden"), runs, baseline=True, targets=["train.py"])


STOPPED_AT_5 = {"max_steps": 5, "steps": 5, "stopped": True}
UNSTOPPED_40 = {"max_steps": 100, "steps": 40, "stopped": False}


def test_options_the_check_leaves_out_are_the_baselines():
    baseline = baseline_of(STOPPED_AT_5, STOPPED_AT_5, every=10, override=False, force_seed=True)
    taken = options_against_baseline(NOT_GIVEN, baseline)
    assert taken == {"--every": 10, "--max-steps": 5, "--no-override": True, "--force-seed": True}
    assert taken_from_baseline(NOT_GIVEN, taken) == "--every 10 --max-steps 5 --no-override --force-seed"
    plain = baseline_of({}, {})
    assert options_against_baseline(NOT_GIVEN, plain) == NOT_GIVEN
    assert taken_from_baseline(NOT_GIVEN, NOT_GIVEN) == ""


def test_the_same_options_given_again_are_taken_as_they_are():
    given = {"--every": 10, "--max-steps": 5, "--no-override": True, "--force-seed": True}
    baseline = baseline_of(STOPPED_AT_5, every=10, override=False, force_seed=True)
    assert options_against_baseline(given, baseline) == given


@pytest.mark.parametrize("option, value, baseline, recorded", [
    ("--max-steps", 7, baseline_of(STOPPED_AT_5), "with --max-steps 5 (its runs stopped training after 5 steps)"),
    ("--max-steps", 40, baseline_of(UNSTOPPED_40), "with --max-steps 100 (its runs trained 40 steps, unstopped)"),
    ("--no-override", True, baseline_of({}), "without --no-override"),
    ("--force-seed", True, baseline_of({}), "without --force-seed"),
])
def test_an_option_given_otherwise_is_refused_with_the_command_that_records_the_baseline_with_it(
        option, value, baseline, recorded):
    given = {**NOT_GIVEN, option: value}
    with pytest.raises(UsageProblem) as refused:
        options_against_baseline(given, baseline)
    message = str(refused.value)
    shown = option if value is True else f"{option} {value}"
    assert message.startswith(f"{shown}: the baseline golden was recorded {recorded}, "), message
    assert f"leave {option} out to check as the baseline was recorded" in message
    assert f"`seedcheck run train.py --seed 1 --repeats 1 {shown} --save golden --force`" in message


def test_another_every_is_let_through_as_the_comparison_compares_the_snapshots_both_took():
    # A reviewer's find: refusing it blocked `--every 1` to find the step a check diverges at, and
    # `--every 100` (a custom loop's default) against a baseline recorded without it.
    for recorded in (None, 10):
        assert options_against_baseline({**NOT_GIVEN, "--every": 1}, baseline_of({}, every=recorded))["--every"] == 1


def test_a_max_steps_where_the_baseline_does_not_say_how_far_it_trained_is_let_through():
    # A reviewer's find: a full-training baseline and a check capped by --max-steps far above it.
    # Without --max-steps a trace does not count fit's steps, so nothing shows the cap stops it.
    assert options_against_baseline({**NOT_GIVEN, "--max-steps": 100000}, baseline_of({}))["--max-steps"] == 100000


def test_a_max_steps_above_what_the_baselines_runs_trained_unstopped_is_let_through():
    # It stops nothing the baseline's runs trained, so the check records the same stages.
    given = {**NOT_GIVEN, "--max-steps": 41}
    assert options_against_baseline(given, baseline_of(UNSTOPPED_40))["--max-steps"] == 41


def test_an_option_from_pyproject_says_so_and_how_to_leave_it_out():
    given = {**NOT_GIVEN, "--max-steps": 3}
    with pytest.raises(UsageProblem) as refused:
        options_against_baseline(given, baseline_of(STOPPED_AT_5), " (the baseline set in pyproject.toml)",
                                 configured=lambda key: key == "max_steps")
    message = str(refused.value)
    assert message.startswith("--max-steps 3 (pyproject.toml [tool.seedcheck] max_steps): the baseline golden was "
                              "recorded with --max-steps 5"), message
    assert "leave max_steps out of pyproject.toml to check as the baseline was recorded" in message
    assert message.endswith("--force`) (the baseline set in pyproject.toml)")


def test_runs_that_disagree_or_do_not_say_leave_the_option_to_the_check():
    # No one value to hold the check to: the comparison names what differs (settings_differ).
    mixed = baseline_of(STOPPED_AT_5, {})
    assert "--max-steps" not in recorded_options(mixed)
    assert options_against_baseline({**NOT_GIVEN, "--max-steps": 9}, mixed)["--max-steps"] == 9
    no_exit = baseline_of(None)  # an older or cut trace: no exit event says how training ended
    assert "--max-steps" not in recorded_options(no_exit)
    old_header = baseline_of({})
    del old_header.runs[0].trace.header["every"]  # type: ignore[union-attr]  # a header from before --every
    assert options_against_baseline({**NOT_GIVEN, "--every": 4}, old_header)["--every"] == 4


def test_a_check_takes_the_baselines_options_and_says_so_even_when_quiet(tmp_path: Path) -> None:
    script = SCRIPTS / "py_shuffle.py"
    recorded = seedcheck("run", script, "--seed", "1", "--repeats", "1", "--max-steps", "3", "--every", "2",
                         "--no-override", "--save", tmp_path / "golden", "-q", "--", "--seeded")
    assert recorded.code == 0, recorded.stderr
    held = seedcheck("run", script, "--baseline", tmp_path / "golden", "--repeats", "1", "--save", tmp_path / "check",
                     "-q", "--", "--seeded")
    assert held.code == 0, held.stdout + held.stderr
    assert f"seedcheck: as the baseline {tmp_path / 'golden'} was recorded: --every 2 --max-steps 3 --no-override" \
        in held.stderr
    trace = (tmp_path / "check" / "s1-1.jsonl").read_text()
    assert '"override":false' in trace and '"every":2' in trace and '"max_steps":3' in trace, trace[:400]
    # An error after the options were taken is still one line (--save refuses a directory in use).
    again = seedcheck("run", script, "--baseline", tmp_path / "golden", "--save", tmp_path / "check", "--", "--seeded")
    message = one_line_error(again)
    assert "already holds" in message and "as the baseline" not in again.stderr


def test_an_option_given_otherwise_is_refused_before_any_run_and_its_command_records_the_baseline_again(
        tmp_path: Path) -> None:
    script = SCRIPTS / "py_shuffle.py"
    golden = tmp_path / "golden"
    assert seedcheck("run", script, "--seed", "1", "--repeats", "1", "--save", golden, "-q", "--", "--seeded").code == 0
    refused = seedcheck("run", script, "--baseline", golden, "--no-override", "--save", tmp_path / "no", "--", "--seeded")
    message = one_line_error(refused)
    assert not (tmp_path / "no").exists()
    assert message.startswith(f"seedcheck: error: --no-override: the baseline {golden} was recorded without "
                              "--no-override"), message
    # The command it prints re-records into the baseline's own directory, held to nothing: not refused.
    command = message.split("(`", 1)[1].split("`)", 1)[0].split()
    assert command[:2] == ["seedcheck", "run"] and "--no-override" in command and "--force" in command, command
    rerecorded = seedcheck("run", "--baseline", golden, "-q", *command[2:], cwd=tmp_path)
    assert rerecorded.code == 0 and "re-recording the baseline" in rerecorded.stderr, rerecorded.stderr
    assert '"override":false' in (golden / "s1-1.jsonl").read_text()
    held = seedcheck("run", script, "--baseline", golden, "--no-override", "--repeats", "1", "-q", "--", "--seeded",
                     cwd=tmp_path)
    assert held.code == 0, held.stdout + held.stderr


def test_an_option_from_pyproject_that_the_baseline_was_not_recorded_with_says_where_it_came_from(
        tmp_path: Path) -> None:
    script = SCRIPTS / "py_shuffle.py"
    assert seedcheck("run", script, "--seed", "1", "--repeats", "1", "--max-steps", "5", "--save", tmp_path / "golden",
                     "-q").code == 0
    # The script never trains: as if --max-steps had stopped the baseline's run after 5 steps.
    trace = tmp_path / "golden" / "s1-1.jsonl"
    trace.write_text(trace.read_text().replace('"steps":0,"stopped":false', '"steps":5,"stopped":true'))
    (tmp_path / "pyproject.toml").write_text('[tool.seedcheck]\nbaseline = "golden"\nmax_steps = 9\n')
    refused = seedcheck("run", script, "--save", tmp_path / "no", cwd=tmp_path)
    message = one_line_error(refused)
    assert message.startswith("seedcheck: error: --max-steps 9 (pyproject.toml [tool.seedcheck] max_steps): "
                              "the baseline golden was recorded with --max-steps 5"), message
    assert "leave max_steps out of pyproject.toml" in message and "--no-baseline" in message
