"""The hook runs a script as `python` would and passes the seed in (failures: test_faults.py).
These use small non-TensorFlow scripts, so they are fast."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SCRIPTS, CliResult, seedcheck, seedcheck_json
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
    # The first seed becomes the run's; the next keeps its distance from it (6 - 5 = 1).
    assert seeds == [("seed/random.seed#1", "tests/scripts/python_seeding.py:6", 5, 3),
                     ("seed/numpy.random.seed#1", "tests/scripts/python_seeding.py:7", 6, 4)]
    # Both runs drew the same numbers from the overridden seed, and TensorFlow was never imported.
    logs = [(tmp_path / "runs" / f"s3-{i}.stdout.log").read_text() for i in (1, 2)]
    assert logs[0] == logs[1] and logs[0].strip()
    assert trace.find("exit").detail["tensorflow_used"] is False
    assert "TensorFlow not used" in seedcheck("run", "tests/scripts/python_seeding.py", "--seed", "3",
                                              "--repeats", "2", "--save", tmp_path / "again", "-q").stdout


def test_a_seeding_helper_from_an_installed_package_is_overridden_like_the_scripts_own(tmp_path):
    """`seed_everything(42)` from a package in site-packages seeds for the script: --seed must reach it
    (only Keras reseeding inside one of its utilities, split_dataset's, is passed through)."""
    package = tmp_path / "site-packages" / "seedhelper"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("import random\n\nimport numpy as np\n\n\n"
                                         "def seed_everything(seed):\n    random.seed(seed)\n    np.random.seed(seed)\n")
    script = tmp_path / "train.py"
    script.write_text("import random\n\nfrom seedhelper import seed_everything\n\nseed_everything(42)\n"
                      "print(random.random())\n")
    result = seedcheck("run", script, "--seed", "1", "--seed", "2", "--repeats", "1", "--save", tmp_path / "runs",
                       "-q", env={"PYTHONPATH": str(tmp_path / "site-packages")})
    assert result.code == 0, result.stdout + result.stderr
    for seed in (1, 2):
        trace = read_trace(tmp_path / "runs" / f"s{seed}-1.jsonl")
        calls = [(e.detail["api"], e.detail["asked"], e.value, e.detail.get("via")) for e in trace.events if e.kind == "seed"]
        assert calls == [("random.seed", 42, seed, "seedhelper/__init__.py:7"),
                         ("numpy.random.seed", 42, seed, "seedhelper/__init__.py:8")], calls


def test_override_keeps_the_distance_between_seeds(tmp_path):
    """`np.random.seed(seed + epoch)`: each epoch keeps its own seed. Handed its seed through `{seed}`,
    the script computes what plain python computes; with another literal, the shift is the same for
    every call."""
    script = "tests/scripts/reseeds_each_epoch.py"
    plain = subprocess.run([sys.executable, script, "7"], capture_output=True, text=True, check=True,
                           stdin=subprocess.DEVNULL).stdout
    result = seedcheck("run", script, "--seed", "7", "--repeats", "1", "--save", tmp_path / "arg", "-q",
                       "--", "{seed}")
    assert result.code == 0, result.stderr
    assert (tmp_path / "arg" / "s7-1.stdout.log").read_text() == plain
    orders = json.loads(plain)
    assert len({str(order) for order in orders}) == 3  # the script's own epochs differ
    result = seedcheck("run", script, "--seed", "7", "--repeats", "1", "--save", tmp_path / "literal", "-q")
    assert result.code == 0, result.stderr
    assert (tmp_path / "literal" / "s7-1.stdout.log").read_text() == plain  # 123, 124, 125 -> 7, 8, 9
    trace = read_trace(tmp_path / "literal" / "s7-1.jsonl")
    assert [(e.detail["asked"], e.value) for e in trace.events if e.kind == "seed"] == [(123, 7), (124, 8), (125, 9)]


def test_a_script_given_its_seed_with_the_placeholder_keeps_its_own_seeding(tmp_path):
    """`{seed}` in the arguments: the override is off, so a fixed seed for one RNG beside the given
    seed for another stays as written (shifting both would change what the script computes)."""
    script = "tests/scripts/two_rngs_seeded.py"
    plain = subprocess.run([sys.executable, script, "5"], capture_output=True, text=True, check=True,
                           stdin=subprocess.DEVNULL).stdout
    result = seedcheck("run", script, "--seed", "5", "--repeats", "1", "--save", tmp_path, "-q", "--", "{seed}")
    assert result.code == 0, result.stderr
    assert (tmp_path / "s5-1.stdout.log").read_text() == plain
    trace = read_trace(tmp_path / "s5-1.jsonl")
    assert [(e.detail["asked"], e.value, e.detail["overridden"]) for e in trace.events if e.kind == "seed"] == \
        [(0, 0, False), (5, 5, False)]


def test_no_override_leaves_literals_alone(tmp_path):
    seedcheck_json("run", "tests/scripts/python_seeding.py", "--seed", "3", "--repeats", "1", "--no-override",
                   tmp_path=tmp_path)
    trace = read_trace(tmp_path / "runs" / "s3-1.jsonl")
    assert [e.value for e in trace.events if e.kind == "seed"] == [5, 6]
    assert all(e.detail["overridden"] is False for e in trace.events if e.kind == "seed")


def seedcheck_console(*args: str | Path, cwd: Path) -> CliResult:
    """seedcheck as its console script runs: without the working directory on its own sys.path
    (`python -P`), unlike `python -m seedcheck`, which puts it there."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    process = subprocess.run([sys.executable, "-P", "-m", "seedcheck", *map(str, args)], cwd=cwd,
                             capture_output=True, text=True, env=env, timeout=120)
    return CliResult(process.returncode, process.stdout, process.stderr, None)


def test_module_mode_runs_like_python_dash_m_from_the_working_directory(tmp_path):
    plain = subprocess.run([sys.executable, "-m", "introspect"], cwd=SCRIPTS, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, check=True)
    result = seedcheck_console("run", "-m", "introspect", "--repeats", "1", "--save", tmp_path, "-q", cwd=SCRIPTS)
    assert result.code == 0, result.stderr
    assert json.loads((tmp_path / "own-1.stdout.log").read_text()) == json.loads(plain.stdout)
    missing = seedcheck_console("run", "-m", "introspect_nowhere", cwd=SCRIPTS)
    assert missing.code == 2 and missing.stderr.strip().splitlines() == [
        "seedcheck: error: no module named 'introspect_nowhere' (from -m introspect_nowhere) "
        "in the working directory or on sys.path"]


def test_a_directory_with_main_runs_as_python_runs_it(tmp_path):
    command = ["tests/scripts/runnable_dir", "--epochs", "2"]
    plain = subprocess.run([sys.executable, *command], cwd=REPO, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, check=True)
    result = seedcheck("run", command[0], "--repeats", "1", "--save", tmp_path, "-q", "--", *command[1:])
    assert result.code == 0, result.stderr
    seen = json.loads((tmp_path / "own-1.stdout.log").read_text())
    assert seen == json.loads(plain.stdout)
    assert seen["spec"][1].endswith("runnable_dir/__main__.py") and seen["globals"] == ["json", "sys"]


@pytest.mark.parametrize("mode", ["exit-float", "exit-list", "interrupt", "hook", "broken-hook"])
def test_a_script_ends_with_the_output_and_exit_of_plain_python(tmp_path, mode):
    """What reaches stderr and how the process ends, byte for byte as under python: a non-int
    sys.exit code printed (exit 1); an uncaught KeyboardInterrupt's traceback, then death by SIGINT;
    the script's own sys.excepthook called without seedcheck's frames, and a failing one reported."""
    script = "tests/scripts/ends_oddly.py"
    plain = subprocess.run([sys.executable, script, mode], cwd=REPO, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
    result = seedcheck_json("run", script, "--repeats", "1", "--", mode, tmp_path=tmp_path)
    assert result.code == 3, result.stderr
    assert (tmp_path / "runs" / "own-1.stderr.log").read_text() == plain.stderr
    assert result.report["runs"][0]["exit_code"] == plain.returncode
    assert plain.returncode == {"exit-float": 1, "exit-list": 1, "interrupt": -signal.SIGINT}.get(mode, 1)
    assert read_trace(tmp_path / "runs" / "own-1.jsonl").find("exit") is not None


@pytest.mark.parametrize("root", [
    "/srv/venv/lib/python3.11/site-packages",  # a virtual environment
    os.path.join(os.path.dirname(os.__file__), "site-packages"),  # conda, pyenv, Docker's python images
])
def test_a_draw_made_by_a_library_is_named_by_its_package(root):
    """With no user code on the stack, a draw is placed at the library's line, package-relative."""
    from seedcheck.hook.recorder import library_site

    namespace = {"library_site": library_site}
    exec(compile("def adapter():\n    return library_site()\n", f"{root}/keras/src/adapter.py", "exec"), namespace)
    assert namespace["adapter"]() == "keras/src/adapter.py:2"


def test_value_draws_of_the_script_are_recorded(tmp_path):
    """`np.random.normal`, `random.random` & co. from the script's own lines: the first few one by
    one, the rest of a loop as a count. A library's own draws (tempfile's Random) are not the
    script's and are not recorded. RNG objects the script makes unseeded are, at their first draw (not
    one seeded before it)."""
    script = "tests/scripts/value_draws.py"
    result = seedcheck_json("run", script, "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 1, result.stderr
    first = result.report["first_divergence"]
    assert first["key"] == f"rng/numpy.random.normal@{script}:21#1" and first["rule"] == "seeds-nothing"
    rest = result.stage(f"rng/numpy.random.normal@{script}:21#rest")
    events = read_trace(tmp_path / "runs" / "own-1.jsonl").events
    folded = next(e for e in events if e.key == f"rng/numpy.random.normal@{script}:21#rest")
    assert folded.detail["folded_draws"] == 12 and rest["verdict"] == "diverged"  # the state at 4 of the 12
    assert [e.detail["size"] for e in events if e.key.startswith("rng/numpy.random.rand@")] == [[2, 2]]
    keys = {e.key.rsplit("#", 1)[0] for e in events if e.kind == "rng"}
    assert keys == {f"rng/numpy.random.normal@{script}:21", f"rng/random.random@{script}:22",
                    f"rng/numpy.random.rand@{script}:23", f"rng/numpy.random.RandomState@{script}:24",
                    f"rng/random.Random@{script}:25"}
    own = next(e for e in events if e.key.startswith("rng/numpy.random.RandomState@"))
    assert own.detail == {"api": "numpy.random.RandomState", "unseeded": True}
    assert result.stage(f"rng/random.Random@{script}:25#1")["verdict"] == "diverged"
    # The script sees numpy's classes, and pickles the wrapped functions, as plain python does.
    plain = subprocess.run([sys.executable, script], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert (tmp_path / "runs" / "own-1.stdout.log").read_text() == plain  # pickle copies the RNG: both False

    seeded = seedcheck_json("run", script, "--repeats", "2", "--", "--seeded", tmp_path=tmp_path / "seeded")
    assert seeded.code == 0, seeded.stderr
    assert {s["verdict"] for s in seeded.stages("rng/")} == {"reproducible"}
    assert not [s for s in seeded.stages("rng/") if "RandomState" in s["key"] or "random.Random" in s["key"]]

    reseeded = seedcheck_json("run", script, "--repeats", "2", "--", "--seeded", "--reseed", tmp_path=tmp_path / "re")
    first = reseeded.report["first_divergence"]
    assert first["key"] == f"rng/numpy.random.normal@{script}:21#1" and first["rule"] == "unseeded-draw"
    assert f"after numpy.random.seed() at {script}:20 reseeded it from fresh OS entropy" in first["cause"]


def test_a_generator_a_library_makes_for_itself_is_not_the_scripts(tmp_path):
    """An installed package's own unseeded `default_rng()` (SciPy makes four when Keras imports it)
    is not recorded: it made every seeded script diverge at its import line. The script's own is."""
    script = "tests/scripts/library_generator.py"
    result = seedcheck_json("run", script, "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 0, result.stderr
    assert [s["key"] for s in result.stages("rng/")] == [f"rng/numpy.random.normal@{script}:20#1"]

    own = seedcheck_json("run", script, "--repeats", "2", "--", "--own", tmp_path=tmp_path / "own")
    first = own.report["first_divergence"]
    assert own.code == 1 and first["key"] == f"rng/numpy.random.default_rng@{script}:22#1", own.stderr
    assert first["rule"] == "unseeded-draw" and len(own.stages("rng/")) == 2


def test_a_generator_on_an_unseeded_bit_generator_is_the_scripts_unseeded_rng(tmp_path):
    """`np.random.Generator(np.random.PCG64())`: the bit generator draws its seed from the OS, as
    an unseeded default_rng() does, and was not recorded (a script drawing only from it passed as
    reproducible). Recorded at the script's line, named after the class; a library's is not."""
    script = "tests/scripts/library_generator.py"
    result = seedcheck_json("run", script, "--repeats", "2", "--", "--bitgen", tmp_path=tmp_path)
    first = result.report["first_divergence"]
    assert result.code == 1 and first["key"] == f"rng/numpy.random.PCG64@{script}:25#1", result.stderr
    assert first["rule"] == "unseeded-draw" and f"np.random.PCG64() at {script}:25 has no seed" in first["cause"]
    assert "np.random.PCG64(seed)" in first["fix"]
    assert len(result.stages("rng/")) == 2  # and the global RNG's seeded draw at line 20
    alias = seedcheck_json("run", script, "--repeats", "2", "--", "--alias", tmp_path=tmp_path / "alias")
    first = alias.report["first_divergence"]  # no class on the line: named for what it is, not guessed
    assert alias.code == 1 and first["key"] == f"rng/numpy.random.bit_generator@{script}:28#1", alias.stderr
    assert first["cause"].startswith(f"a numpy bit generator or SeedSequence made at {script}:28 has no seed")
    assert first["fix"].startswith("pass a seed where it is made: np.random.PCG64(seed)"), first["fix"]


def test_numpy_state_fingerprint_follows_the_global_generator():
    """The legacy global RNG's fingerprint: equal for equal seeds, new after each draw (a cached
    second normal included), and still right when the script swaps the global bit generator."""
    import numpy as np

    from seedcheck.hook.pyrandom import numpy_state

    state = numpy_state(np.random)
    saved = np.random.get_state()
    try:
        np.random.seed(4)
        first = state()
        np.random.rand()
        assert state() != first
        np.random.seed(4)
        assert state() == first
        np.random.normal()  # draws two normals, keeps the second for the next call
        cached = state()
        np.random.normal()
        assert state() != cached
        np.random.seed(5)
        assert state() != first
        swapped = np.random.get_bit_generator()
        try:
            np.random.set_bit_generator(np.random.PCG64(1))
            pcg = state()
            np.random.rand()
            assert state() != pcg
            np.random.set_bit_generator(np.random.PCG64(1))
            assert state() == pcg
        finally:
            np.random.set_bit_generator(swapped)
        np.random.seed(4)
        assert state() == first
    finally:
        np.random.set_state(saved)


def test_unseeded_rng_subclasses_are_recorded_and_behave_as_plain(tmp_path):
    """A script's own subclasses of RandomState and Random, made unseeded: recorded at their first
    draw; isinstance/issubclass against the script's class, an ABC base and attributes the script
    set under a method's name are as plain python has them (a review found all three changed)."""
    script = "tests/scripts/rng_subclasses.py"
    result = seedcheck_json("run", script, "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 1, result.stderr
    keys = [s["key"] for s in result.stages("rng/")]
    assert f"rng/numpy.random.RandomState@{script}:24#1" in keys, keys
    assert any(key.startswith(f"rng/random.Random@{script}:") for key in keys), keys
    plain = subprocess.run([sys.executable, script], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert (tmp_path / "runs" / "own-1.stdout.log").read_text() == plain


COPIED = [("numpy.random.RandomState", 33, "__reduce_ex__"),  # copy.deepcopy
          ("numpy.random.RandomState", 34, "__reduce_ex__"),  # pickle
          ("numpy.random.RandomState", 35, "get_state"),  # set_state on another
          ("numpy.random.RandomState", 36, "_bit_generator"),  # a Generator over it
          ("numpy.random.RandomState", 37, "__reduce_ex__"),  # a clone of an object holding it
          ("random.Random", 38, "__reduce_ex__"),  # copy.copy
          ("random.Random", 39, "getstate"),  # setstate on another
          ("random.Random", 40, "__reduce_ex__"),  # a dataclass's default_factory, then deepcopy
          ("numpy.random.RandomState", 40, "__reduce_ex__")]  # a dataclass's default_factory, then pickle


def test_unseeded_rng_objects_copied_before_any_draw_diverge_at_the_line_that_made_them(tmp_path):
    """Unseeded RNG objects the script never draws from, only copies (deepcopy, copy, pickle, get_state
    -> set_state, a Generator over numpy's _bit_generator, a clone of an object holding one), and ones a
    dataclass's default_factory makes: nothing was recorded, and runs whose copies drew differently
    passed as reproducible. Each now diverges at the line that made it (the dataclass's: the line that
    called the class); objects seeded before they are copied are not recorded; the script sees the
    copies as plain python shows them, and with seeds, draws from them what plain python draws."""
    script = "tests/scripts/rng_copies.py"
    result = seedcheck_json("run", script, "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    first = result.report["first_divergence"]
    assert first["key"] == f"rng/numpy.random.RandomState@{script}:33#1" and first["rule"] == "unseeded-draw"
    assert first["cause"].startswith(f"np.random.RandomState() at {script}:33 has no seed"), first["cause"]
    assert "took its state (copied or pickled) before any draw" in first["cause"]
    rows = {s["key"]: s["verdict"] for s in result.stages("rng/")}
    assert rows == {f"rng/{api}@{script}:{line}#1": "diverged" for api, line, _ in COPIED}, rows
    events = read_trace(tmp_path / "runs" / "own-1.jsonl").events
    reads = {e.key: e.detail.get("state_read") for e in events if e.kind == "rng"}
    assert reads == {f"rng/{api}@{script}:{line}#1": read for api, line, read in COPIED}
    plain = subprocess.run([sys.executable, script], cwd=REPO, capture_output=True, text=True, check=True).stdout
    seen = (tmp_path / "runs" / "own-1.stdout.log").read_text()
    assert seen.splitlines()[0] == plain.splitlines()[0]  # the copies' classes and __dict__s

    seeded = seedcheck_json("run", script, "--repeats", "2", "--", "--seeded", tmp_path=tmp_path / "seeded")
    assert seeded.code == 0 and not seeded.stages("rng/"), seeded.stdout
    plain = subprocess.run([sys.executable, script, "--seeded"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout
    assert (tmp_path / "seeded" / "runs" / "own-1.stdout.log").read_text() == plain


def test_pickles_of_unseeded_rng_objects_load_without_seedcheck(tmp_path):
    """An unseeded RandomState and Random pickled under seedcheck before any draw, and the class of
    such a RandomState (which failed to pickle: its name found seedcheck's class, not it): plain python
    loads them with seedcheck unimportable, and they draw what the objects drew next in the run."""
    import ast

    pickles = tmp_path / "rngs.pickle"
    result = seedcheck("run", "tests/scripts/rng_copies.py", "--repeats", "1", "--save", tmp_path / "runs", "-q",
                       "--", "--pickles", pickles)
    assert result.code == 0, result.stdout + (tmp_path / "runs" / "own-1.stderr.log").read_text()
    assert b"seedcheck" not in pickles.read_bytes()
    loader = ("import pickle, sys\nsys.modules['seedcheck'] = None\nloaded = pickle.load(open(sys.argv[1], 'rb'))\n"
              "print(loaded.pop('type').__module__, {name: float(rng.random()) for name, rng in loaded.items()})")
    plain = subprocess.run([sys.executable, "-I", "-c", loader, pickles], capture_output=True, text=True, check=True)
    module, drawn = plain.stdout.split(" ", 1)
    ran = (tmp_path / "runs" / "own-1.stdout.log").read_text().splitlines()[-1]
    assert module == "numpy.random.mtrand" and ast.literal_eval(drawn) == ast.literal_eval(ran), (plain.stdout, ran)


def test_a_dataclass_default_factory_is_its_modules(tmp_path):
    """What the script's own dataclass makes or draws in a default_factory is recorded at the line that
    called the class, or handed it to a library that called it (its generated __init__ has no line of
    the script's: it was taken for a library's, and not recorded); a library's dataclass stays the
    library's, called from the script or from the library, as a library class's __init__ is."""
    site = tmp_path / "site-packages"
    (site / "augmentlib").mkdir(parents=True)
    (site / "augmentlib" / "__init__.py").write_text(
        "import dataclasses\nimport random\n\n\n@dataclasses.dataclass\nclass Jitter:\n"
        "    rng: random.Random = dataclasses.field(default_factory=random.Random)\n\n\n"
        "def make():\n    return Jitter()\n\n\ndef build(cls):\n    return cls()\n")
    script = tmp_path / "train.py"
    script.write_text("import dataclasses\nimport random\n\nfrom augmentlib import Jitter, build, make\n\n\n"
                      "@dataclasses.dataclass\nclass Own:\n"
                      "    rng: random.Random = dataclasses.field(default_factory=random.Random)\n"
                      "    noise: float = dataclasses.field(default_factory=random.random)\n\n\n"
                      "own = Own()\nbuilt = build(Own)\n"
                      "print(Jitter().rng.random(), make().rng.random(), own.rng.random(), built.rng.random())\n")
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))  # kept: it may pick a checkout
    result = seedcheck_json("run", script, "--repeats", "2", tmp_path=tmp_path, env={"PYTHONPATH": path})
    assert result.code == 1, result.stdout + result.stderr
    assert {s["key"] for s in result.stages("rng/")} == {
        f"rng/{api}@train.py:{line}#1" for api in ("random.Random", "random.random") for line in (13, 14)}


def test_an_overridden_seed_the_script_computes_still_diverges(tmp_path):
    """`random.seed(os.getpid())` under --seed: every run gets seed 7 and draws alike, but the script
    asked for a different seed in each; without seedcheck the runs differ (a probe found this
    reported reproducible). The seeding row shows the seeds asked for, and is the first divergence."""
    script = "tests/scripts/pid_seeded.py"
    result = seedcheck_json("run", script, "--seed", "7", "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    first = result.report["first_divergence"]
    assert first["key"] == "seed/random.seed#1" and first["site"] == f"{script}:5" and first["rule"] == "varying-seed"
    assert "--seed overrode it" in first["cause"]
    assert [s["verdict"] for s in result.stages("rng/")] in ([], ["reproducible"] * len(result.stages("rng/")))
    literal = seedcheck_json("run", "tests/scripts/python_seeding.py", "--seed", "7", "--repeats", "2",
                             tmp_path=tmp_path / "literal")
    assert literal.code == 0, literal.stdout  # a literal seed overridden alike in every run: no divergence


def test_pythonhashseed_set_while_the_script_runs_is_recorded(tmp_path):
    result = seedcheck("run", "tests/scripts/hashseed_late.py", "--repeats", "1", "--save", tmp_path, "-q",
                       env={"PYTHONHASHSEED": ""})
    assert result.code == 0, result.stderr
    exit_event = next(e for e in read_trace(tmp_path / "own-1.jsonl").events if e.kind == "exit")
    assert exit_event.detail.get("hashseed_set_late") is True
    untouched = seedcheck("run", "tests/scripts/python_seeding.py", "--repeats", "1", "--save", tmp_path / "u", "-q")
    exit_event = next(e for e in read_trace(tmp_path / "u" / "own-1.jsonl").events if e.kind == "exit")
    assert untouched.code == 0 and "hashseed_set_late" not in exit_event.detail
