"""Seeds read from the clock (hook/clock.py): marked when given, and a check whose parallel runs
started in the same second (and so agree) still fails on them (compare.py, hints.py)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from conftest import seedcheck_json
from seedcheck import compare as C
from seedcheck.compare import compare
from seedcheck.hints import explain
from seedcheck.hook import clock
from seedcheck.report.labels import verdict_text
from seedcheck.watch import DivergenceWatch
from test_compare import ev, runs_for, stage


@pytest.mark.parametrize(("seed", "unit"), [
    (lambda: int(time.time()), "s"),
    (lambda: time.time(), "s"),
    (lambda: np.int64(time.time()), "s"),
    (lambda: str(int(time.time())), "s"),  # random.seed(str(...))
    (lambda: int(time.time() * 1000), "ms"),
    (lambda: int(time.time() * 1e6), "µs"),
    (lambda: time.time_ns(), "ns"),
    (lambda: int(time.strftime("%Y%m%d%H%M%S")), "YmdHMS"),
    (lambda: int(time.strftime("%Y%m%d%H%M%S", time.gmtime())), "YmdHMS"),
    (lambda: int(time.strftime("%Y%m%d%H%M")), "YmdHM"),
])
def test_a_time_read_while_the_process_runs_is_taken_for_a_clock_seed(seed, unit):
    assert clock.clock_unit(seed()) == unit


def test_a_time_taken_before_the_process_started_is_a_fixed_seed():
    """`--seed $(date +%s)`, or a seed file written a minute ago: the same in every run."""
    started = clock._started_ns // 10**9
    for before in (started - 2, started - 60, started - 3600):
        assert clock.clock_unit(before) is None
        assert clock.clock_unit(before * 1000) is None
    assert clock.clock_unit(int(time.strftime("%Y%m%d%H%M%S", time.localtime(started - 60)))) is None


@pytest.mark.parametrize("seed", [0, 1, 42, 1234, 20261127, 2**24 - 1, 2**31 - 1, 2**32 - 1, 1_700_000_000,
                                  -1_795_800_000, 10**18, 2**63 - 1, True, "seed", "-5", None, [1, 2], 1.5,
                                  float("nan"), float("inf")])
def test_literal_seeds_are_not_taken_for_the_clock(seed):
    assert clock.clock_unit(seed) is None


def test_milliseconds_modulo_2_32_are_not_recognised():
    """Any seed below 2**32 would fall in that window now and then (hashed per-file seeds): left to
    the runs, whose millisecond seeds differ anyway."""
    assert clock.clock_unit(int(time.time() * 1000) % 2**32) is None


def test_mark_looks_at_each_element_of_a_seed_pair_or_array():
    detail: dict = {}
    clock.mark(detail, [7, int(time.time())])
    assert detail == {"clock": "s"}
    clock.mark(in_array := {}, np.array([int(time.time())]))
    assert in_array == {"clock": "s"}
    clock.mark(fixed := {}, [7, 8])
    assert fixed == {}


def seeding(asked: int, applied: int | None = None, unit: str | None = "s") -> list:
    applied = asked if applied is None else applied
    detail = {"api": "random.seed", "asked": asked, "applied": applied, "overridden": applied != asked,
              **({"clock": unit} if unit else {})}
    return [ev("seed/random.seed#1", applied, site="train.py:3", detail=detail)]


def test_runs_given_the_same_clock_seed_still_diverge():
    """Two runs started in the same second (--jobs 2) ask for the same seed: alike here, not when run
    apart. Before, this check passed."""
    now = int(time.time())
    comparison = explain(compare(runs_for(s1_1=seeding(now), s1_2=seeding(now))))
    row = stage(comparison, "seed/random.seed#1")
    assert row.verdict == C.DIVERGED and row.clock == "s" and row.fails
    assert verdict_text(row) == "DIVERGED (clock seed)"
    divergence = comparison.first_divergence
    assert divergence.stage is row and "the current time in seconds, alike only because" in divergence.explanation
    assert divergence.rule == "varying-seed" and "is seeded from the clock" in divergence.cause
    assert "started within the same second and got the same one" in divergence.cause and "{seed}" in divergence.fix


def test_an_overridden_clock_seed_shows_the_seed_asked():
    now = int(time.time())
    row = stage(compare(runs_for(s7_1=seeding(now, 7), s7_2=seeding(now, 7))), "seed/random.seed#1")
    assert row.verdict == C.DIVERGED and row.values == {"s7#1": now, "s7#2": now}


def test_with_two_seeds_the_text_speaks_of_the_clock_seed_and_one_seeds_runs():
    """--seed 1 --seed 2: the seeds --seed applied (1, 2) are not the clock seed; the pair named is
    two runs of one seed, and the row says why it diverged whatever the row's values."""
    now = int(time.time())
    comparison = explain(compare(runs_for(s1_1=seeding(now, 1), s1_2=seeding(now, 1),
                                          s2_1=seeding(now + 1, 2), s2_2=seeding(now + 1, 2))))
    divergence = comparison.first_divergence
    assert divergence.runs == ("s1#1", "s1#2"), divergence.runs
    assert f"seed {now} in s1#1 and s1#2" in divergence.explanation
    assert f"({now}: the current time in seconds)" in divergence.cause and "(1, 2" not in divergence.cause
    assert verdict_text(divergence.stage) == "DIVERGED (clock seed)"


def test_a_clock_seed_some_runs_read_from_a_file_is_left_to_other_rules():
    """The first run took the seed from the clock and saved it; the next read it back (not a time of
    its own run): alike for a reason, not by the timing of the runs."""
    now = int(time.time())
    row = stage(compare(runs_for(s1_1=seeding(now), s1_2=seeding(now, unit=None))), "seed/random.seed#1")
    assert row.verdict == C.REPRODUCIBLE and row.clock is None


def test_a_draw_given_the_same_clock_seed_names_the_seed_not_the_values():
    now = int(time.time())
    draw = [ev("rng/tf.random.uniform@gen.py:9#1", "f6cfe143aa", kind="rng", site="gen.py:9",
               detail={"api": "tf.random.uniform", "op_seed": now, "global_seed": None, "unseeded": False,
                       "clock": "s"})]
    divergence = explain(compare(runs_for(s1_1=draw, s1_2=draw))).first_divergence
    assert divergence.explanation.startswith(f"seed {now} in s1#1 and s1#2: the current time in seconds")


def test_clock_seeds_that_differ_are_named_as_the_clock():
    now = int(time.time())
    divergence = explain(compare(runs_for(s1_1=seeding(now), s1_2=seeding(now + 1)))).first_divergence
    assert divergence.stage.clock is None and "DIVERGED (2 values)" == verdict_text(divergence.stage)
    assert "is seeded from the clock" in divergence.cause and "by chance" not in divergence.cause
    assert "the process id" not in divergence.cause


def test_one_run_or_no_mark_is_no_divergence():
    now = int(time.time())
    assert stage(compare(runs_for(s1_1=seeding(now))), "seed/random.seed#1").verdict == C.UNCHECKED
    assert stage(compare(runs_for(s1_1=seeding(now), s2_1=seeding(now))), "seed/random.seed#1").verdict \
        == C.SEED_INSENSITIVE
    unmarked = compare(runs_for(s1_1=seeding(now, unit=None), s1_2=seeding(now, unit=None)))
    assert stage(unmarked, "seed/random.seed#1").verdict == C.REPRODUCIBLE


def test_a_shuffle_and_a_draw_given_the_same_clock_seed_diverge():
    now = int(time.time())
    config = {"buffer_size": 10, "seed": now, "reshuffle_each_iteration": True, "global_seed": 1}
    shuffle = [ev("shuffle/tf.data.Dataset.shuffle@train.py:6#1", config, site="train.py:6",
                  detail={"api": "tf.data.Dataset.shuffle", **config, "unseeded": False, "clock": "s"})]
    divergence = explain(compare(runs_for(s1_1=shuffle, s1_2=shuffle))).first_divergence
    assert divergence.rule == "varying-shuffle-seed" and "is seeded from the clock" in divergence.cause
    draw = [ev("rng/tf.random.stateless_normal@gen.py:9#1", "ab12", kind="rng", site="gen.py:9",
               detail={"api": "tf.random.stateless_normal", "seed": [now, 3], "unseeded": False, "clock": "s"})]
    divergence = explain(compare(runs_for(s1_1=draw, s1_2=draw))).first_divergence
    assert divergence.rule == "varying-seed" and f"({[now, 3]}: the current time in seconds)".replace(" ", "") \
        in divergence.cause.replace(" ", "")


def test_a_clock_seeded_script_fails_in_parallel_runs(tmp_path):
    """`random.seed(int(time.time()))` with --jobs 2: the runs start within a second of each other
    and most often ask for the same seed, which passed. Now it fails either way, named as the clock."""
    script = "tests/scripts/clock_seeded.py"
    result = seedcheck_json("run", script, "--repeats", "2", "--jobs", "2", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    first = result.report["first_divergence"]
    assert (first["key"], first["site"], first["rule"]) == ("seed/random.seed#1", f"{script}:12", "varying-seed")
    assert "is seeded from the clock" in first["cause"] and "the current time in seconds" in first["cause"]


def test_fail_fast_stops_on_a_clock_seed_and_on_an_overridden_seed_asked_differently():
    now = int(time.time())
    watch = DivergenceWatch()
    assert watch.feed("s1#1", 1, seeding(now)) is None
    assert watch.feed("s1#2", 1, seeding(now)) == ("seed/random.seed#1", "s1#1", "s1#2")
    overridden = DivergenceWatch()
    overridden.feed("s7#1", 7, seeding(101, 7, unit=None))
    assert overridden.feed("s7#2", 7, seeding(102, 7, unit=None)) == ("seed/random.seed#1", "s7#1", "s7#2")
    from_file = DivergenceWatch()  # the first run read the clock and left the seed in a file the next one read
    from_file.feed("s1#1", 1, seeding(now))
    assert from_file.feed("s1#2", 1, seeding(now, unit=None)) is None  # compare: reproducible, as here
    literal = DivergenceWatch()
    literal.feed("s7#1", 7, seeding(42, 7, unit=None))
    assert literal.feed("s7#2", 7, seeding(42, 7, unit=None)) is None


def test_rng_objects_seeded_from_the_clock_are_recorded_and_a_seed_given_before_the_run_is_not(tmp_path):
    """`random.Random(int(time.time()))` was not recorded at all (seeded objects are not): it passed
    even with runs seconds apart. A seed taken from the clock before the run and handed in (here as
    `--seed <now> -- --seed {seed}`, as a nightly job might) is a fixed seed: no mark, a pass."""
    script = "tests/scripts/clock_objects.py"
    result = seedcheck_json("run", script, "--repeats", "2", "--jobs", "2", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    rows = {s["key"]: s for s in result.stages("rng/")}
    assert sorted(rows) == [f"rng/numpy.random.RandomState@{script}:14#1", f"rng/numpy.random.default_rng@{script}:15#1",
                            f"rng/random.Random@{script}:13#1"], sorted(rows)
    assert all(row["verdict"] == "diverged" for row in rows.values())
    first = result.report["first_divergence"]
    assert first["key"] == f"rng/random.Random@{script}:13#1" and first["rule"] == "varying-seed"
    assert "is seeded from the clock" in first["cause"]
    handed_in = seedcheck_json("run", script, "--seed", str(int(time.time())), "--repeats", "2", "--jobs", "2",
                               "--", "--seed", "{seed}", tmp_path=tmp_path / "handed-in")
    assert handed_in.code == 0, handed_in.stdout + handed_in.stderr
    assert not handed_in.stages("rng/")


def test_the_shifted_clock_reaches_datetime_and_leaves_its_types_as_they_were():
    """`seedcheck vary` moves the wall clock (hook/variations.py). In a process of its own (it
    patches modules): the script sees the shifted time everywhere it reads the current time, and
    otherwise the very types and functions it sees without seedcheck (a reviewer's three breaks of
    the subclass way: pickling a `.date()`, sqlite3's adapters, an ABC subclass; and logging's
    `Formatter.converter = time.localtime`, which a plain function broke by binding; and a second
    reviewer's: `time.ctime` pickled by name, `uuid.uuid1()` not drawing from the script's `random`)."""
    import subprocess
    import sys

    from conftest import REPO

    probe = """
import abc, io, logging, pickle, sqlite3, sys, time
import datetime as module
real_types, read_early, later = (module.date, module.datetime), time.time, time.time() + 399 * 86400
from seedcheck.hook.variations import shift_clock
shift_clock(time.time() + 400 * 86400)
from datetime import date, datetime, timedelta, timezone
assert (date, datetime) == real_types and "pytest" not in sys.modules and read_early() > later
now = datetime.now()
assert type(now) is datetime and now.timestamp() > later and datetime.now(timezone.utc).timestamp() > later, now
assert datetime.today() >= now and datetime.utcnow().timestamp() != 0 and date.today() == now.date()
assert time.mktime(time.localtime()) > later and time.strftime("%Y") == str(now.year), time.strftime("%Y")
assert time.ctime().endswith(str(now.year)) and time.ctime(None).endswith(str(now.year))
assert time.asctime().endswith(str(now.year)) and time.ctime(0).endswith(("1969", "1970"))
assert time.strftime("%Y", time.localtime(0)) in ("1969", "1970") and time.gmtime(0).tm_year == 1970
assert pickle.loads(pickle.dumps(now.date())) == now.date() and pickle.loads(pickle.dumps(now)) == now
assert sqlite3.connect(":memory:").execute("select ?", (now.date(),)).fetchone() == (now.date().isoformat(),)
class Mine(datetime, abc.ABC):
    pass
assert repr(Mine(2021, 2, 3)) == "Mine(2021, 2, 3, 0, 0)" and isinstance(Mine.now(), Mine) and Mine.now().timestamp() > later
stream = io.StringIO()
handler = logging.StreamHandler(stream)
handler.setFormatter(logging.Formatter("%(asctime)s"))
handler.formatter.converter = time.localtime
logging.getLogger("probe").addHandler(handler)
logging.getLogger("probe").warning("x")
assert stream.getvalue().startswith(str(now.year)), stream.getvalue()
class Stamped(logging.Formatter):
    converter = time.ctime
assert Stamped.converter(0).endswith(("1969", "1970"))
assert pickle.loads(pickle.dumps(time.ctime)) is time.ctime and pickle.loads(pickle.dumps(time.asctime)) is time.asctime
import random, uuid
random.seed(1)
drawn = random.random()
random.seed(1)
uuid.uuid1()  # time-machine's fallback for it drew from the script's `random`
assert random.random() == drawn
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.stdout == "ok\n", done.stderr
