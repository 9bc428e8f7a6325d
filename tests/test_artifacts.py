"""Artifact fingerprints: the same content gives the same fingerprint, whatever zip timestamps,
save dates or process object ids a model file carries; any real change gives another."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from conftest import SCRIPTS, CliResult, seedcheck, seedcheck_json
from seedcheck.artifacts import fingerprint_file
from seedcheck.trace import read_trace


def keras_like(path, date_time, date_saved, object_id, weights=b"\x01\x02"):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in (
            ("metadata.json", json.dumps({"keras_version": "3.15.1", "date_saved": date_saved})),
            ("config.json", json.dumps({"layers": [{"shared_object_id": object_id}, {"shared_object_id": object_id},
                                                   {"units": 3}]})),
            ("model.weights.h5", weights),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=date_time), data)
    return path


def test_same_model_saved_by_two_processes_has_one_fingerprint(tmp_path):
    a = keras_like(tmp_path / "a.keras", (2026, 1, 1, 0, 0, 0), "2026-01-01@00:00:00", 139807799935824)
    b = keras_like(tmp_path / "b.keras", (2026, 1, 1, 0, 0, 8), "2026-01-01@00:00:09", 139941454187536)
    assert fingerprint_file(a)[0] == fingerprint_file(b)[0]
    assert fingerprint_file(a)[1] == {"size": a.stat().st_size, "zip_members": 3}


def test_changed_weights_or_sharing_change_the_fingerprint(tmp_path):
    base = fingerprint_file(keras_like(tmp_path / "a.keras", (2026, 1, 1, 0, 0, 0), "d", 1))[0]
    weights = fingerprint_file(keras_like(tmp_path / "b.keras", (2026, 1, 1, 0, 0, 0), "d", 1, weights=b"\x01\x03"))[0]
    assert weights != base
    with zipfile.ZipFile(tmp_path / "c.keras", "w") as archive:  # two distinct shared objects, not one
        archive.writestr("metadata.json", "{}")
        archive.writestr("config.json", json.dumps({"layers": [{"shared_object_id": 5}, {"shared_object_id": 6},
                                                               {"units": 3}]}))
        archive.writestr("model.weights.h5", b"\x01\x02")
    assert fingerprint_file(tmp_path / "c.keras")[0] != base


def test_plain_files_are_hashed_by_content(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"x" * 3_000_000)
    (tmp_path / "b.txt").write_bytes(b"x" * 3_000_000)
    (tmp_path / "c.txt").write_bytes(b"x" * 2_999_999 + b"y")
    fps = [fingerprint_file(tmp_path / n)[0] for n in ("a.txt", "b.txt", "c.txt")]
    assert fps[0] == fps[1] != fps[2]


def test_an_encrypted_archive_is_hashed_by_its_bytes(tmp_path):
    """Reading an encrypted member raises RuntimeError: the file is still the run's output."""
    path = tmp_path / "secret.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "hello")
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        start = data.index(signature)
        data[start + flag_at] |= 0x01  # "encrypted"
    path.write_bytes(bytes(data))
    value, detail = fingerprint_file(path)
    assert value and "zip_members" not in detail


def test_the_runners_events_start_on_a_line_of_their_own(tmp_path):
    """A trace whose last line is complete but has no newline: the runner's appended events must
    not join it (the whole trace would no longer read)."""
    from seedcheck.runner import _append
    from seedcheck.trace import Event, TraceWriter

    path = tmp_path / "t.jsonl"
    writer = TraceWriter(path, {"seedcheck": "0.1.0", "run": "s1#1", "seed": 1})
    writer.write(Event("exit", "exit", 0))
    writer.close()
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    _append(read_trace(path), [{"kind": "output", "key": "output/x", "value": "ab", "site": None,
                                "detail": {}, "t": 0.0}])
    assert [e.key for e in read_trace(path).events] == ["exit", "output/x"]


# -- end to end: which file counts as a run's, and when it is taken ------------------------------

WRITER = SCRIPTS / "writes_artifact.py"


def run_writer(tmp_path: Path, path: str, how: str, *options: str) -> CliResult:
    """The real CLI on writes_artifact.py, from tmp_path, two runs of seed 1, with --artifact PATH."""
    return seedcheck_json("run", WRITER, "--seed", "1", "--repeats", "2", "--artifact", path, *options,
                          "--", path, how, tmp_path=tmp_path, cwd=tmp_path)


@pytest.mark.e2e
def test_a_file_left_from_before_that_no_run_writes_is_missing(tmp_path):
    (tmp_path / "out.txt").write_text("stale")
    result = run_writer(tmp_path, "out.txt", "never")
    assert result.code == 1, result.stdout + result.stderr
    assert result.stage("output/out.txt")["verdict"] == "missing"
    assert result.stage("output/out.txt")["values"] == {"s1#1": None, "s1#2": None}
    divergence = result.report["first_divergence"]
    assert divergence["rule"] == "artifact-not-written" and "left unchanged" in divergence["explanation"]


def test_an_artifact_path_no_run_wrote_names_the_file_written_beside_it(tmp_path):
    """A typo in --artifact: the check says what to do (check the path), not that the script is not
    reproducible, and names the file the runs did write in that directory (not one from before)."""
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "older.txt").write_text("from before the check")
    result = seedcheck_json("run", WRITER, "--seed", "1", "--repeats", "2", "--artifact", "out/reslt.txt",
                            "--", "out/result.txt", "main", tmp_path=tmp_path, cwd=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    divergence = result.report["first_divergence"]
    assert divergence["rule"] == "artifact-not-written", divergence
    assert divergence["explanation"].endswith("no run wrote it; they wrote out/result.txt there"), divergence
    summary = " ".join(result.stdout.split())
    assert "✘ No run wrote the --artifact file out/reslt.txt: check its path; the other" in summary, summary
    assert "between s1#1 and s1#2" not in summary


@pytest.mark.e2e
def test_a_file_each_run_writes_again_counts_even_with_the_same_content(tmp_path):
    assert run_writer(tmp_path, "out.txt", "main").code == 0
    (tmp_path / "again").mkdir()
    again = run_writer(tmp_path / "again", "../out.txt", "main")  # the same bytes over the same file
    assert again.code == 0, again.stdout + again.stderr
    assert isinstance(again.stage("output/../out.txt")["values"]["s1#2"], str)


@pytest.mark.e2e
@pytest.mark.parametrize("how", ["atexit", "thread"])
def test_files_written_during_python_shutdown_are_the_runs(tmp_path, how):
    """atexit handlers and non-daemon threads write after the script's main code has returned."""
    result = run_writer(tmp_path, "{run_dir}/out.txt", how)
    assert result.code == 0, result.stdout + result.stderr
    stage = result.stage("output/{run_dir}/out.txt")
    assert stage["verdict"] == "reproducible" and all(isinstance(v, str) for v in stage["values"].values())
    assert result.report["stages"][-1]["key"] == "exit"  # appended after the exit event, shown before it
    trace = read_trace(tmp_path / "runs" / "s1-1.jsonl")
    assert [e.kind for e in trace.events[-2:]] == ["exit", "output"]


@pytest.mark.e2e
def test_a_relative_path_starts_from_where_the_run_started_not_where_the_script_moved(tmp_path):
    result = run_writer(tmp_path, "out.txt", "chdir")
    assert result.code == 0, result.stdout + result.stderr
    assert result.stage("output/out.txt")["verdict"] == "reproducible"


@pytest.mark.e2e
def test_fail_fast_sees_the_files_the_runner_fingerprints(tmp_path):
    result = run_writer(tmp_path, "{run_dir}/out.txt", "unseeded", "--repeats", "3", "--fail-fast")
    assert result.code == 1, result.stdout + result.stderr
    assert [run["status"] for run in result.report["runs"]] == ["ok", "ok", "skipped"]
    assert result.report["first_divergence"]["key"] == "output/{run_dir}/out.txt"


@pytest.mark.e2e
@pytest.mark.parametrize(("options", "words"), [
    (["--artifact", ""], "empty"),
    (["--artifact", "."], "is a directory"),
    (["--artifact", "{run_dir}/"], "names a directory"),
    (["--artifact", "out.txt", "--jobs", "2"], "put {run_dir} in it"),
    (["--artifact", "out_{seed}.txt"], "give --seed N"),
    (["--artifact", "out.txt", "--", "--seed", "{seed}"], "{seed} in the script's arguments"),
])
def test_bad_artifacts_and_seedless_placeholders_are_usage_errors_before_any_run(tmp_path, options, words):
    seeded = [] if any("{seed}" in option for option in options) else ["--seed", "1"]
    result = seedcheck("run", WRITER, *seeded, "--save", tmp_path / "runs", "-q", *options, cwd=tmp_path)
    assert result.code == 2, result.stdout + result.stderr
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()  # refused before any run


@pytest.mark.e2e
def test_a_configured_run_dir_artifact_is_left_as_written(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.seedcheck]\nartifacts = ["{run_dir}/out.txt"]\nrepeats = 2\n'
                                             'seeds = [3]\n')
    deeper = tmp_path / "sub" / "deeper"
    deeper.mkdir(parents=True)
    result = seedcheck_json("run", WRITER, "--", "{run_dir}/out.txt", "main", tmp_path=tmp_path, cwd=deeper)
    assert result.code == 0, result.stdout + result.stderr
    assert result.stage("output/{run_dir}/out.txt")["verdict"] == "reproducible"
