"""The CI gate end to end: baselines, compare across kernel settings, tolerance, JUnit/Markdown/JSON
reports, $GITHUB_STEP_SUMMARY, [tool.seedcheck] config, --ignore and `seedcheck show`.

Real TensorFlow in real subprocesses where a training run is the point; a Python-only script
where only the command line is under test.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import SAMPLES, SCRIPTS, CliResult, seedcheck, seedcheck_json, validate_report

pytestmark = pytest.mark.e2e


def compare_json(*args: str | Path, tmp_path: Path, name: str = "compare.json", **kwargs) -> CliResult:
    report_file = tmp_path / name
    result = seedcheck("compare", *args, "--json", report_file, **kwargs)
    assert report_file.exists(), f"no report; exit {result.code}\n{result.stderr}"
    result.report = json.loads(report_file.read_text())
    validate_report(result.report)
    return result


# -- a baseline held against new runs ------------------------------------------------------------

@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the fully seeded classifier with a baseline recorded from it (seed 5, one run)."""
    folder = tmp_path_factory.mktemp("project")
    for name in ("classifier_fully_seeded.py", "_toyproblem.py"):
        shutil.copy(SAMPLES / name, folder / name)
    result = seedcheck("run", "classifier_fully_seeded.py", "--seed", "5", "--repeats", "1", "--save", "baseline",
                       "-q", "--", "--epochs", "2", cwd=folder)
    assert result.code == 0, result.stderr  # one run: nothing to compare yet, which is not a failure
    assert (folder / "baseline" / "s5-1.jsonl").exists()
    return folder


def test_same_script_matches_its_baseline(project: Path, tmp_path: Path) -> None:
    result = seedcheck_json("run", "classifier_fully_seeded.py", "--baseline", project / "baseline", "--repeats", "1",
                            "--", "--epochs", "2", tmp_path=tmp_path, cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    report = result.report
    assert [run["name"] for run in report["runs"]] == ["base:s5#1", "s5#1"]  # the seed came from the baseline
    assert [run["baseline"] for run in report["runs"]] == [True, False]
    assert report["verdict"] == "reproducible"
    final = result.stage("weights/final/sequential#1")
    assert final["verdict"] == "reproducible" and len(set(final["values"].values())) == 1


def test_changed_script_differs_from_baseline_and_names_the_stage(project: Path, tmp_path: Path) -> None:
    changed = tmp_path / "changed"
    shutil.copytree(project, changed, ignore=shutil.ignore_patterns("baseline", ".seedcheck"))
    toy = changed / "_toyproblem.py"
    toy.write_text(toy.read_text().replace("batch_size=32", "batch_size=16"))
    junit = tmp_path / "report.xml"
    markdown = tmp_path / "report.md"
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step's summary\n")
    result = seedcheck_json("run", "classifier_fully_seeded.py", "--baseline", project / "baseline", "--repeats", "1",
                            "--junit", junit, "--markdown", markdown, "--", "--epochs", "2",
                            tmp_path=tmp_path, cwd=changed, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.code == 1, result.stdout + result.stderr
    first = result.report["first_divergence"]
    assert first["key"] == "data/fit#1/epoch-1"
    assert "20 batches in one run, 40 in the other" in first["explanation"]
    assert first["runs"] == ["base:s5#1", "s5#1"]
    assert "Not reproducible against the baseline" in result.stdout
    assert result.stage("weights/fit#1/init")["verdict"] == "reproducible"  # the change is in training only
    # The edited file is named as the likely cause, not the script's nondeterminism, and the fix
    # records the baseline again with its own options.
    assert first["rule"] == "changed-since-baseline" and "_toyproblem.py has changed" in first["cause"]
    assert f"--seed 5 --repeats 1 --save {project / 'baseline'} --force -- --epochs 2" in first["fix"]

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and int(suite.get("failures")) >= 1 and suite.get("errors") == "0"
    failing = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert failing[0].get("name") == "data fit#1 epoch 1"
    assert "first divergence" in failing[0].find("failure").get("message")
    passing = [case for case in suite.iter("testcase") if case.get("classname") == "seedcheck.init"]
    assert passing and all(case.find("failure") is None for case in passing)

    text = markdown.read_text()
    assert text.startswith("### ❌ seedcheck: Not reproducible against the baseline")
    assert "**First divergence:** data `fit#1 epoch 1`" in text
    assert summary.read_text().startswith("earlier step's summary\n### ❌ seedcheck")  # appended, not replaced


def test_a_line_added_above_the_draws_keeps_the_baseline(project: Path, tmp_path: Path) -> None:
    # A reviewer's find: one comment line made every stage keyed by a line below it (the Dropout's
    # SeedGenerator) missing against the baseline, and the check failed. The same calls in the same
    # order in an edited file are read at the new lines, and the report says so.
    moved = tmp_path / "moved"
    shutil.copytree(project, moved, ignore=shutil.ignore_patterns("baseline", ".seedcheck"))
    toy = moved / "_toyproblem.py"
    toy.write_text("# a comment above everything\n" + toy.read_text())
    result = seedcheck_json("run", "classifier_fully_seeded.py", "--baseline", project / "baseline", "--repeats", "1",
                            "--", "--epochs", "2", tmp_path=tmp_path, cwd=moved)
    assert result.code == 0, result.stdout + result.stderr
    keyed = [stage for stage in result.report["stages"] if stage["key"].startswith("rng/keras.random.SeedGenerator@")]
    assert keyed and all(stage["verdict"] == "reproducible" for stage in keyed), keyed
    assert any("_toyproblem.py changed since base:s5#1" in warning for warning in result.report["warnings"])


def test_baseline_with_other_seeds_is_refused(project: Path) -> None:
    result = seedcheck("run", "classifier_fully_seeded.py", "--baseline", "baseline", "--seed", "6", cwd=project)
    assert result.code == 2
    assert result.stderr.strip() == ("seedcheck: error: --seed 6: not in the baseline baseline (its seeds: 5); "
                                     "use its seeds or record a new baseline")


# -- other machines: kernel settings, tolerance --------------------------------------------------

@pytest.fixture(scope="module")
def machine_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The wide classifier saved once with TensorFlow's oneDNN kernels off and once on, as two CI
    machines would (`seedcheck run --repeats 1 --save`). oneDNN on or off swaps the matmul kernels
    and changes the weights' last bits (measured on this AVX-512 EPYC); the intra-op thread count
    did so on an earlier machine but not on this one, so it cannot be the test's difference."""
    folder = tmp_path_factory.mktemp("machines")
    for onednn in ("0", "1"):
        result = seedcheck("run", SAMPLES / "wide_classifier.py", "--seed", "7", "--repeats", "1",
                           "--save", folder / f"onednn-{onednn}", "-q", env={"TF_ENABLE_ONEDNN_OPTS": onednn})
        assert result.code == 0, result.stderr
    return folder / "onednn-0", folder / "onednn-1"


def test_kernel_settings_diverge_bitwise(machine_runs: tuple[Path, Path], tmp_path: Path) -> None:
    junit = tmp_path / "machines.xml"
    result = compare_json(*machine_runs, "--junit", junit, tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    report = result.report
    assert [run["name"] for run in report["runs"]] == ["onednn-0:s7#1", "onednn-1:s7#1"]
    assert report["first_divergence"]["key"] == "weights/fit#1/epoch-1"
    assert report["first_divergence"]["rule"] == "environment-difference"
    assert "$TF_ENABLE_ONEDNN_OPTS" in report["first_divergence"]["cause"]
    for key in ("weights/fit#1/init", "data/fit#1/epoch-1", "init/sequential/dense/kernel#1"):
        assert result.stage(key)["verdict"] == "reproducible"  # same start, same batches: only the arithmetic
    differences = {d["field"]: d["values"] for d in report["environment_differences"]}
    assert differences["env.TF_ENABLE_ONEDNN_OPTS"] == {"onednn-0:s7#1": "0", "onednn-1:s7#1": "1"}
    assert result.stage("env")["verdict"] == "differs" and not result.stage("env")["fails"]
    assert "Environment differences" in result.stdout and "$TF_ENABLE_ONEDNN_OPTS" in result.stdout
    failures = [case.get("name") for case in ET.parse(junit).getroot().iter("testcase") if case.find("failure") is not None]
    assert "weights fit#1 epoch 1" in failures


def test_kernel_settings_are_close_within_a_tolerance(machine_runs: tuple[Path, Path], tmp_path: Path) -> None:
    result = compare_json(*machine_runs, "--rtol", "1e-4", tmp_path=tmp_path)
    assert result.code == 0, result.stdout + result.stderr
    weights = [s for s in result.report["stages"] if s["kind"] == "weights" and s["key"] != "weights/fit#1/init"]
    assert weights and all(s["verdict"] == "close" for s in weights)
    assert all(0 < s["detail"]["max_abs_deviation"] < 1e-4 for s in weights)
    assert result.report["tolerance"] == {"rtol": 1e-4, "atol": 0.0}
    assert "Reproducible within tolerance" in result.stdout
    # A tolerance far below the differences keeps them diverged: close is measured, not assumed.
    strict = compare_json(*machine_runs, "--atol", "1e-12", tmp_path=tmp_path, name="strict.json")
    assert strict.code == 1
    assert strict.stage("weights/fit#1/epoch-1")["verdict"] == "diverged"


# -- config, --ignore, show: the command line without TensorFlow ----------------------------------

def test_config_sets_defaults_and_the_command_line_wins(tmp_path: Path) -> None:
    shutil.copy(SCRIPTS / "py_shuffle.py", tmp_path / "py_shuffle.py")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.seedcheck]\nseeds = [4]\nrepeats = 2\nignore = ["shuffle/*"]\n')
    result = seedcheck_json("run", "py_shuffle.py", tmp_path=tmp_path, cwd=tmp_path)
    assert [run["name"] for run in result.report["runs"]] == ["s4#1", "s4#2"]
    assert result.report["ignore"] == ["shuffle/*"]
    shuffle = result.stages("shuffle/")[0]
    assert shuffle["verdict"] == "ignored" and shuffle["detail"]["ignored_verdict"] == "diverged"
    assert result.code == 0  # the unseeded shuffle diverges, but the project ignores it

    overridden = seedcheck_json("run", "py_shuffle.py", "--repeats", "3", "--seed", "8", "--ignore", "exit",
                                tmp_path=_mkdir(tmp_path / "cli"), cwd=tmp_path)
    assert [run["name"] for run in overridden.report["runs"]] == ["s8#1", "s8#2", "s8#3"]
    assert overridden.report["ignore"] == ["exit"]  # a list option given on the command line replaces the config's
    assert overridden.code == 1 and overridden.report["first_divergence"]["kind"] == "shuffle"
    first = overridden.report["first_divergence"]
    assert first["rule"] == "seeds-nothing" and "np." not in first["fix"], first  # the script has no numpy


@pytest.mark.parametrize(("setting", "message"), [
    ('repeats = "three"', 'pyproject.toml [tool.seedcheck] repeats: expected a whole number ≥ 1, got "three"'),
    ("repeat = 2", "pyproject.toml [tool.seedcheck]: unknown key 'repeat'; did you mean 'repeats'?"),
    ("seeds = [1, -2]", "pyproject.toml [tool.seedcheck] seeds: expected a non-empty list of whole numbers from 0 to 4294967295"),
    ("seeds = []", "pyproject.toml [tool.seedcheck] seeds: expected a non-empty list of whole numbers from 0 to 4294967295, got []"),
    ("rtol = -1", "pyproject.toml [tool.seedcheck] rtol: expected a number ≥ 0, got -1"),
    ("repeats = ", "pyproject.toml is not valid TOML"),
])
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, setting: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.seedcheck]\n{setting}\n")
    result = seedcheck("run", SCRIPTS / "py_shuffle.py", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith(f"seedcheck: error: {message}"), result.stderr
    assert result.stderr.count("\n") == 1


def test_config_saved_as_utf16_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes("[tool.seedcheck]\nrepeats = 2\n".encode("utf-16"))
    result = seedcheck("run", SCRIPTS / "py_shuffle.py", cwd=tmp_path)
    assert result.code == 2 and result.stderr == "seedcheck: error: pyproject.toml is not valid TOML: not UTF-8 text\n"


def test_config_baseline_can_be_switched_off(tmp_path: Path) -> None:
    shutil.copy(SCRIPTS / "py_shuffle.py", tmp_path / "py_shuffle.py")
    (tmp_path / "pyproject.toml").write_text('[tool.seedcheck]\nbaseline = "ci/baseline"\n')
    missing = seedcheck("run", "py_shuffle.py", "--seed", "1", cwd=tmp_path)
    assert missing.code == 2 and "--baseline: no such trace or directory: ci/baseline" in missing.stderr
    recorded = seedcheck("run", "py_shuffle.py", "--seed", "1", "--repeats", "1", "--no-baseline",
                         "--save", "ci/baseline", "-q", "--", "--seeded", cwd=tmp_path)
    assert recorded.code == 0, recorded.stderr
    held = seedcheck("run", "py_shuffle.py", "--repeats", "2", "-q", "--", "--seeded", cwd=tmp_path)
    assert held.code == 0, held.stdout + held.stderr
    assert "base:s1#1" in held.stdout and "against the baseline" in held.stdout
    # Recording it again, as the README says (the same command with --force, the baseline still set
    # in pyproject.toml): the new runs replace the baseline, not held to the traces they delete.
    again = seedcheck("run", "py_shuffle.py", "--repeats", "1", "--save", "ci/baseline", "--force", "-q",
                      cwd=tmp_path)
    assert again.code == 0, again.stdout + again.stderr
    assert "re-recording the baseline ci/baseline" in again.stderr and "base:" not in again.stdout
    assert sorted(p.name for p in (tmp_path / "ci" / "baseline").glob("*.jsonl")) == ["s1-1.jsonl"]


def test_show_prints_a_trace_and_refuses_a_directory(tmp_path: Path) -> None:
    run = seedcheck("run", SCRIPTS / "py_shuffle.py", "--seed", "2", "--repeats", "1", "--save", tmp_path, "-q")
    assert run.code == 0, run.stderr
    shown = seedcheck("show", tmp_path / "s2-1.jsonl", env={"COLUMNS": "200"})
    assert shown.code == 0, shown.stderr
    assert "run s2#1 · seed 2" in shown.stdout
    assert "shuffle/random.shuffle@" in shown.stdout and "exit code 0" in shown.stdout
    only = seedcheck("show", tmp_path / "s2-1.jsonl", "--kind", "exit", "--full")
    assert '"value": 0' in only.stdout and "1 of" in only.stdout
    refused = seedcheck("show", tmp_path)
    assert refused.code == 2 and "is a directory; give one of its traces: s2-1.jsonl" in refused.stderr
    torn = tmp_path / "torn.jsonl"
    torn.write_text((tmp_path / "s2-1.jsonl").read_text().rsplit("\n", 2)[0][:-5])
    shown_torn = seedcheck("show", torn)
    assert shown_torn.code == 0 and "cut short" in shown_torn.stdout


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_call_sites_do_not_depend_on_where_the_check_runs(tmp_path: Path) -> None:
    """A stage's key holds its call site. A file outside the working directory was named by its
    absolute path, so a baseline recorded in the project failed a check run from a subdirectory,
    and traces of two machines whose helper module sits at other paths (on $PYTHONPATH) failed
    each other: `missing` rows, exit 1. It is now named from the script's directory, else from its
    sys.path entry."""
    project = _mkdir(tmp_path / "project")
    (project / "helper.py").write_text("import random\n\n\ndef draw():\n    return random.random()\n")
    (project / "draw.py").write_text("import random\nimport helper\nimport noise\n\nrandom.seed(1)\n"
                                     "print(helper.draw(), noise.draw())\n")
    for machine in ("a", "b"):  # the same module at another path on each "machine"
        (_mkdir(tmp_path / machine / "lib") / "noise.py").write_text(
            "import random\n\n\ndef draw():\n    return random.random()\n")
    sub = _mkdir(project / "sub")
    recorded = seedcheck("run", "draw.py", "--repeats", "1", "--save", "base", "-q", cwd=project,
                         env={"PYTHONPATH": str(tmp_path / "a" / "lib")})
    assert recorded.code == 0, recorded.stderr
    keys = [json.loads(line)["key"] for line in (project / "base" / "own-1.jsonl").read_text().splitlines()[1:]]
    assert "rng/random.random@helper.py:5#1" in keys and "rng/random.random@noise.py:5#1" in keys, keys
    held = seedcheck("run", "../draw.py", "--baseline", "../base", "--repeats", "1", "--save", "b", "-q", cwd=sub,
                     env={"PYTHONPATH": str(tmp_path / "b" / "lib")})
    assert held.code == 0, held.stdout + held.stderr
    assert "missing" not in held.stdout


def test_a_check_from_a_subdirectory_or_from_above_the_project_has_the_baselines_keys(tmp_path: Path) -> None:
    """Files under the working directory were named from it: a check run from the project's `lib/`
    named `lib/noise.py` `noise.py`, and one run from above the project `project/draw.py`, so both
    failed a baseline recorded at the root (`missing` rows, exit 1). Files are now named from the
    script's project root (the nearest directory holding pyproject.toml or .git)."""
    project = _mkdir(tmp_path / "project")
    (project / "pyproject.toml").write_text("")
    (project / "draw.py").write_text("import random\nfrom lib import noise\n\nrandom.seed(1)\nprint(noise.draw())\n")
    (_mkdir(project / "lib") / "__init__.py").write_text("")
    (project / "lib" / "noise.py").write_text("import random\n\n\ndef draw():\n    return random.random()\n")
    recorded = seedcheck("run", "draw.py", "--repeats", "1", "--save", "base", "-q", cwd=project)
    assert recorded.code == 0, recorded.stderr
    keys = [json.loads(line)["key"] for line in (project / "base" / "own-1.jsonl").read_text().splitlines()[1:]]
    assert "rng/random.random@lib/noise.py:5#1" in keys, keys
    for cwd, script, baseline in ((project / "lib", "../draw.py", "../base"),
                                  (tmp_path, "project/draw.py", "project/base")):
        held = seedcheck("run", script, "--baseline", baseline, "--repeats", "1", "--save", cwd / "held", "-q", cwd=cwd)
        assert held.code == 0 and "missing" not in held.stdout, held.stdout + held.stderr


def _draw_keys(save: Path) -> list[str]:
    return [json.loads(line)["key"] for line in (save / "own-1.jsonl").read_text().splitlines()[1:]
            if line.startswith('{"kind": "rng"') or '"rng/' in line]


def test_project_roots_that_would_rename_keys_between_checkouts_are_not_used(tmp_path: Path) -> None:
    """Review findings on capture 7: a dotfiles .git in $HOME made an unversioned folder under it one
    project with $HOME (keys `exp/train.py:…`, another checkout failing); a directory target with its
    own pyproject.toml was named from its parent; a module beside the project on sys.path was named
    from the working directory above both. Each must give the same keys wherever it runs."""
    draw = "import random\nrandom.seed(1)\nprint(random.random())\n"
    home = _mkdir(tmp_path / "home")
    (home / ".git").mkdir()
    (_mkdir(home / "exp") / "train.py").write_text(draw)
    seedcheck("run", "train.py", "--repeats", "1", "--save", tmp_path / "h", "-q", cwd=home / "exp", env={"HOME": str(home)})
    assert _draw_keys(tmp_path / "h") == ["rng/random.random@train.py:3#1"]

    app = _mkdir(tmp_path / "dir" / "app")
    (app / "pyproject.toml").write_text("")
    (app / "__main__.py").write_text(draw)
    seedcheck("run", ".", "--repeats", "1", "--save", tmp_path / "d1", "-q", cwd=app)
    seedcheck("run", "app", "--repeats", "1", "--save", tmp_path / "d2", "-q", cwd=app.parent)
    assert _draw_keys(tmp_path / "d1") == _draw_keys(tmp_path / "d2") == ["rng/random.random@__main__.py:3#1"]

    workspace = _mkdir(tmp_path / "ws")
    (_mkdir(workspace / "shared") / "helper.py").write_text("import random\n\n\ndef draw():\n    return random.random()\n")
    proj = _mkdir(workspace / "proj")
    (proj / "pyproject.toml").write_text("")
    (proj / "train.py").write_text("import os\nimport random\nimport sys\n\n"
                                   "sys.path.append(os.path.join(os.path.dirname(__file__), '..', 'shared'))\n"
                                   "import helper  # noqa: E402\n\nrandom.seed(1)\nprint(helper.draw())\n")
    recorded = seedcheck("run", "train.py", "--repeats", "1", "--save", tmp_path / "w1", "-q", cwd=proj)
    assert recorded.code == 0 and _draw_keys(tmp_path / "w1") == ["rng/random.random@helper.py:5#1"], recorded.stderr
    held = seedcheck("run", "proj/train.py", "--baseline", tmp_path / "w1", "--repeats", "1", "--save", tmp_path / "w2",
                     "-q", cwd=workspace)
    assert held.code == 0 and "missing" not in held.stdout, held.stdout + held.stderr


def test_a_module_found_through_a_relative_sys_path_entry_has_one_key_on_every_machine(tmp_path: Path) -> None:
    """`sys.path.append("../shared")`, a common pattern: the module's call sites are named from that
    entry (resolved from the working directory, as imports resolve it), so two checkouts at other
    paths give the same keys; and `vary`'s cwd mirror names them as the control does."""
    for machine in ("a", "b"):
        (_mkdir(tmp_path / machine / "shared") / "h.py").write_text(
            "import random\n\n\ndef draw():\n    return random.random()\n")
        (_mkdir(tmp_path / machine / "proj") / "train.py").write_text(
            'import random\nimport sys\n\nsys.path.append("../shared")\nimport h  # noqa: E402\n\n'
            "random.seed(1)\nprint(h.draw())\n")
    recorded = seedcheck("run", "train.py", "--repeats", "1", "--save", tmp_path / "base", "-q", cwd=tmp_path / "a" / "proj")
    assert recorded.code == 0, recorded.stderr
    held = seedcheck("run", "train.py", "--baseline", tmp_path / "base", "--repeats", "1", "--save", tmp_path / "b-runs",
                     "-q", cwd=tmp_path / "b" / "proj")
    assert held.code == 0, held.stdout + held.stderr
    keys = [json.loads(line)["key"] for line in (tmp_path / "b-runs" / "own-1.jsonl").read_text().splitlines()[1:]]
    assert "rng/random.random@h.py:5#1" in keys, keys
    varied = seedcheck("vary", "train.py", "--vary", "cwd", "--save", tmp_path / "varied", "-q",
                       cwd=tmp_path / "a" / "proj", env={"PYTHONPATH": "../shared"})
    assert varied.code == 0, varied.stdout + varied.stderr
