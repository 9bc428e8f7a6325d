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
    (lambda: int(time.time()) - 300, "s"),  # read at the start, applied after a long import
    (lambda: int(time.time() * 1000), "ms"),
    (lambda: int(time.time() * 1e6), "µs"),
    (lambda: time.time_ns(), "ns"),
])
def test_the_current_time_is_taken_for_a_clock_seed(seed, unit):
    assert clock.clock_unit(seed()) == unit
    assert clock.clock_unit(seed(), reduced=True) == unit


def test_milliseconds_kept_in_numpys_range_count_for_seeding_calls_only():
    reduced = int(time.time() * 1000) % 2**32
    assert clock.clock_unit(reduced, reduced=True) == "ms"
    assert clock.clock_unit(reduced) is None  # an op's seed: Keras hands out many seeds up to 2**32


@pytest.mark.parametrize("seed", [0, 1, 42, 1234, 20261127, 2**24 - 1, 2**31 - 1, 2**32 - 1, 1_700_000_000,
                                  -1_795_800_000, True, "1795800000", None, [1, 2], 1.5])
def test_literal_seeds_are_not_taken_for_the_clock(seed):
    assert clock.clock_unit(seed, reduced=True) is None


def test_mark_looks_at_each_element_of_a_seed_pair():
    detail: dict = {}
    clock.mark(detail, [7, int(time.time())])
    assert detail == {"clock": "s"}
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
    assert "got the same one by chance" in divergence.cause and "{seed}" in divergence.fix


def test_an_overridden_clock_seed_shows_the_seed_asked():
    now = int(time.time())
    row = stage(compare(runs_for(s7_1=seeding(now, 7), s7_2=seeding(now, 7))), "seed/random.seed#1")
    assert row.verdict == C.DIVERGED and row.values == {"s7#1": now, "s7#2": now}


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
    assert (first["key"], first["site"], first["rule"]) == ("seed/random.seed#1", f"{script}:5", "varying-seed")
    assert "is seeded from the clock" in first["cause"] and "the current time in seconds" in first["cause"]


def test_fail_fast_stops_on_a_clock_seed_and_on_an_overridden_seed_asked_differently():
    now = int(time.time())
    watch = DivergenceWatch()
    assert watch.feed("s1#1", 1, seeding(now)) is None
    assert watch.feed("s1#2", 1, seeding(now)) == ("seed/random.seed#1", "s1#1", "s1#2")
    overridden = DivergenceWatch()
    overridden.feed("s7#1", 7, seeding(101, 7, unit=None))
    assert overridden.feed("s7#2", 7, seeding(102, 7, unit=None)) == ("seed/random.seed#1", "s7#1", "s7#2")
    literal = DivergenceWatch()
    literal.feed("s7#1", 7, seeding(42, 7, unit=None))
    assert literal.feed("s7#2", 7, seeding(42, 7, unit=None)) is None
