"""Every user mistake: one line on stderr naming the problem, exit 2, never a traceback."""

from __future__ import annotations

import pytest

from conftest import seedcheck


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
        (["run", "sample_scripts"], ["is a directory"]),
        (["run"], ["give a script to run"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--frobnicate"], ["--frobnicate", "--help"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--seed", "abc"], ["--seed", "abc"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--seed", "-1"], ["--seed -1", "between 0 and"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--repeats", "0"], ["--repeats"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--timeout", "0"], ["--timeout"]),
        (["run", "sample_scripts/classifier_fully_seeded.py", "--format", "xml"], ["--format"]),
        (["run", "-m", "no_such_module_xyz"], ["no module named 'no_such_module_xyz'"]),
        (["frobnicate"], ["frobnicate"]),
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


def test_unwritable_json_file(tmp_path):
    result = seedcheck("run", "tests/scripts/python_seeding.py", "--repeats", "1", "--save", tmp_path / "r", "-q",
                       "--json", tmp_path / "missing_dir" / "report.json")
    assert_one_line_error(result, "cannot write")
