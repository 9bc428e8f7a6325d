"""compare.compare() and hints.explain() over in-memory traces: verdicts, order, first divergence, hints.

No files, no subprocesses, no TensorFlow: each test builds its runs from Event lists.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seedcheck import compare as C
from seedcheck import hints
from seedcheck.compare import RunResult, compare
from seedcheck.hints import explain
from seedcheck.report.labels import site_text, stage_label
from seedcheck.trace import TRACE_FORMAT, Event, Trace


# -- helpers ----------------------------------------------------------------------------------------

def ev(key: str, value=None, *, kind: str | None = None, site: str | None = None, detail: dict | None = None) -> Event:
    """An event; its kind is the key's first part (`weights/fit#1/init` -> weights) unless given."""
    return Event(kind=kind or key.split("/")[0], key=key, value=value, site=site, detail=detail)


def run(name: str, seed: int | None, events: list[Event], status: str = "ok") -> RunResult:
    trace = Trace(path=Path(f"{name}.jsonl"), header={"seedcheck_trace": TRACE_FORMAT, "run": name, "seed": seed},
                  events=list(events))
    return RunResult(name, seed, status=status, exit_code=0 if status == "ok" else 1, trace=trace)


def runs_for(**per_run: list[Event]) -> list[RunResult]:
    """runs_for(s1_1=[...], s1_2=[...], s2_1=[...]) -> runs named s1#1, s1#2, s2#1 with seeds 1, 1, 2."""
    runs = []
    for label, events in per_run.items():
        seed, index = label.removeprefix("s").split("_")
        runs.append(run(f"s{seed}#{index}", int(seed), events))
    return runs


def stage(comparison: C.Comparison, key: str) -> C.Stage:
    matches = [s for s in comparison.stages if s.key == key]
    assert matches, f"no stage {key}; stages: {keys(comparison)}"
    return matches[0]


def keys(comparison: C.Comparison) -> list[str]:
    return [s.key for s in comparison.stages]


def weights(key: str, *variables: tuple[str, str, list[float]]) -> Event:
    """A weights event whose detail lists (name, fingerprint, sample) per variable."""
    detail = {"variables": [{"name": name, "shape": [len(sample)], "dtype": "float32", "fp": fp,
                             "norm": sum(x * x for x in sample if isinstance(x, float)) ** 0.5, "sample": sample}
                            for name, fp, sample in variables]}
    return ev(key, "|".join(fp for _, fp, _ in variables), detail=detail)


def data(key: str, batches: int, first_batches: list[str]) -> Event:
    return ev(key, "fp-" + "".join(first_batches) + str(batches),
              detail={"batches": batches, "first_batches": first_batches})


def seed_call(api: str, asked, applied, n: int = 1, site: str = "train.py:4") -> Event:
    return ev(f"seed/{api}#{n}", applied, site=site, detail={"api": api, "asked": asked, "applied": applied})


# -- verdicts ---------------------------------------------------------------------------------------

def test_same_value_in_every_run_is_reproducible():
    events = [ev("weights/fit#1/init", "9c1e"), ev("metrics/fit#1/epoch-1", 0.41)]
    comparison = compare(runs_for(s123_1=events, s123_2=events, s123_3=events))
    for key in ("weights/fit#1/init", "metrics/fit#1/epoch-1"):
        s = stage(comparison, key)
        assert s.verdict == C.REPRODUCIBLE
        assert s.distinct == 1
        assert not s.seed_sensitive
        assert s.values == {"s123#1": s.values["s123#1"], "s123#2": s.values["s123#1"], "s123#3": s.values["s123#1"]}
    assert stage(comparison, "weights/fit#1/init").site is None
    assert comparison.first_divergence is None
    assert comparison.verdict == "reproducible"
    assert comparison.exit_code == 0


def test_differing_values_diverge_and_count_distinct_values():
    comparison = compare(runs_for(s1_1=[ev("weights/fit#1/init", "a")], s1_2=[ev("weights/fit#1/init", "b")],
                                  s1_3=[ev("weights/fit#1/init", "a")]))
    s = stage(comparison, "weights/fit#1/init")
    assert s.verdict == C.DIVERGED
    assert s.distinct == 2
    assert s.max_delta is None  # not numbers
    assert comparison.verdict == "diverged"
    assert comparison.exit_code == 1

    three = compare(runs_for(s1_1=[ev("weights/fit#1/init", "a")], s1_2=[ev("weights/fit#1/init", "b")],
                             s1_3=[ev("weights/fit#1/init", "c")]))
    assert stage(three, "weights/fit#1/init").distinct == 3


def test_diverged_numbers_report_the_spread_as_max_delta():
    key = "metrics/fit#1/epoch-1"
    comparison = compare(runs_for(s1_1=[ev(key, 0.4123)], s1_2=[ev(key, 0.4187)], s1_3=[ev(key, 0.4051)]))
    s = stage(comparison, key)
    assert s.verdict == C.DIVERGED
    assert s.distinct == 3
    assert s.max_delta == pytest.approx(0.4187 - 0.4051)
    assert "max Δ" in comparison.first_divergence.explanation


def test_max_delta_is_the_largest_spread_within_one_seed_not_across_seeds():
    key = "metrics/fit#1/epoch-1"
    comparison = compare(runs_for(s1_1=[ev(key, 1.0)], s1_2=[ev(key, 1.5)],
                                  s2_1=[ev(key, 10.0)], s2_2=[ev(key, 10.25)]))
    s = stage(comparison, key)
    assert s.verdict == C.DIVERGED
    assert s.distinct == 2
    assert s.max_delta == pytest.approx(0.5)


def test_a_divergence_past_the_tolerance_names_the_value_and_what_would_hold_it():
    """--rtol 1e-5 across two machines still failed on a bias of 5e-6 that moved by 7e-10, and the
    fix said to use --rtol/--atol, which the user had: the value past it is named, and the --atol."""
    key = "weights/fit#1/epoch-1"
    a = weights(key, ("d/kernel", "k1", [0.5, -0.25]), ("d/bias", "b1", [5.2e-06, 0.0]))
    b = weights(key, ("d/kernel", "k2", [0.5 + 1e-7, -0.25]), ("d/bias", "b2", [5.2e-06 + 7e-10, 0.0]))
    comparison = explain(compare(runs_for(s1_1=[a], s1_2=[b]), tolerance=C.Tolerance(rtol=1e-5)))
    divergence = comparison.first_divergence
    assert divergence.explanation.endswith("beyond the tolerance: d/bias: |Δ| 7e-10 at a value of 5.2e-06, where the "
                                           "tolerance allows 5.2e-11 (--atol 1e-09 would hold it)"), divergence.explanation
    held = compare(runs_for(s1_1=[a], s1_2=[b]), tolerance=C.Tolerance(rtol=1e-5, atol=1e-9))
    assert stage(held, key).verdict == C.CLOSE


@pytest.mark.parametrize("a, b, names", [(1e308, -1e308, "|Δ| inf at a value of 1e+308"),
                                          (1e308, -5e307, "|Δ| 1.5e+308 at a value of 1e+308"),
                                          (0.0, 1e-320, "|Δ| 1e-320 at a value of 0")])
def test_a_breach_too_wide_or_too_narrow_for_an_atol_is_named_without_one(a, b, names):
    """Reviewers' finds: an infinite or near-largest |Δ| raised OverflowError in the suggestion, and
    a subnormal one was offered an --atol below itself. None gets one; the breach is still named."""
    key = "metrics/fit#1/epoch-1"
    text = C.tolerance_breach(ev(key, a), ev(key, b), C.Tolerance(rtol=1e-5))
    assert text is not None and text.startswith(names) and "--atol" not in text, text


def test_the_suggested_atol_holds_a_delta_just_past_a_power_of_ten():
    """log10 of 1.0000000000000005e-07 rounds to -7: "--atol 1e-07" did not hold it."""
    key, delta = "metrics/fit#1/epoch-1", 1.0000000000000005e-07
    text = C.tolerance_breach(ev(key, 0.0), ev(key, delta), C.Tolerance(rtol=1e-9))
    assert text is not None and text.endswith("(--atol 1e-06 would hold it)"), text
    assert C.Tolerance(rtol=1e-9, atol=1e-06).close(delta, 0.0)


def test_same_value_for_every_seed_is_seed_insensitive():
    """Unless no seed is meant to change it: the environment, the exit code, a zeros or ones initial
    value (they read as the warning a hard-coded seed gets)."""
    zeros = {"name": "d/bias", "fp": "z", "sample": [0.0, 0.0], "norm": 0.0}
    ones = {"name": "n/gamma", "fp": "o", "sample": [1.0, 1.0, 1.0], "norm": 1.7}
    drawn = {"name": "d/kernel", "fp": "k", "sample": [0.1, -0.3], "norm": 0.3}
    events = [ev("weights/fit#1/init", "same"), ev("env", {"tf": "2.21.0"}), ev("init/d/bias#1", "z", detail=zeros),
              ev("init/n/gamma#1", "o", detail=ones), ev("init/d/kernel#1", "k", detail=drawn), ev("exit", 0)]
    comparison = compare(runs_for(s1_1=events, s1_2=events, s2_1=events, s2_2=events))
    assert stage(comparison, "weights/fit#1/init").verdict == C.SEED_INSENSITIVE
    assert stage(comparison, "init/d/kernel#1").verdict == C.SEED_INSENSITIVE
    assert {stage(comparison, key).verdict for key in ("env", "exit", "init/d/bias#1", "init/n/gamma#1")} == {C.REPRODUCIBLE}
    assert comparison.first_divergence is None
    assert comparison.verdict == "reproducible"
    assert comparison.exit_code == 0


def test_equal_within_each_seed_and_different_between_seeds_is_reproducible_and_seed_sensitive():
    comparison = compare(runs_for(s1_1=[ev("weights/fit#1/init", "a")], s1_2=[ev("weights/fit#1/init", "a")],
                                  s2_1=[ev("weights/fit#1/init", "b")], s2_2=[ev("weights/fit#1/init", "b")]))
    s = stage(comparison, "weights/fit#1/init")
    assert s.verdict == C.REPRODUCIBLE
    assert s.seed_sensitive is True
    assert s.distinct == 1
    assert comparison.exit_code == 0


def test_stage_absent_from_a_run_is_missing_and_a_divergence():
    full = [ev("weights/fit#1/init", "w0"), ev("weights/fit#1/epoch-1", "w1"), ev("exit", 0)]
    short = [ev("weights/fit#1/init", "w0"), ev("exit", 0)]
    comparison = compare(runs_for(s1_1=full, s1_2=short))
    s = stage(comparison, "weights/fit#1/epoch-1")
    assert s.verdict == C.MISSING
    assert s.values == {"s1#1": "w1"}
    assert comparison.verdict == "diverged"
    assert comparison.exit_code == 1
    divergence = comparison.first_divergence
    assert divergence.stage is s
    assert divergence.runs == ("s1#1", "s1#2")
    assert "s1#1" in divergence.explanation and "s1#2" in divergence.explanation


def test_one_run_per_seed_is_unchecked():
    single = compare(runs_for(s1_1=[ev("weights/fit#1/init", "a")]))
    assert stage(single, "weights/fit#1/init").verdict == C.UNCHECKED
    assert single.first_divergence is None
    assert single.exit_code == 0

    two_seeds = compare(runs_for(s1_1=[ev("weights/fit#1/init", "a")], s2_1=[ev("weights/fit#1/init", "b")]))
    s = stage(two_seeds, "weights/fit#1/init")
    assert s.verdict == C.UNCHECKED
    assert s.seed_sensitive is True
    assert two_seeds.exit_code == 0


def test_note_events_are_not_stages_but_notes():
    note = ev("note/hook#1", "could not patch tf.data.Dataset.shuffle", kind="note")
    events = [ev("env", {"tf": "2.21.0"}), note, ev("weights/fit#1/init", "w")]
    other_note = ev("note/hook#2", "numpy capture disabled", kind="note")
    comparison = compare(runs_for(s1_1=events, s1_2=events + [other_note]))
    assert keys(comparison) == ["env", "weights/fit#1/init"]
    assert all(s.kind != "note" for s in comparison.stages)
    assert comparison.notes == ["hook: could not patch tf.data.Dataset.shuffle", "hook: numpy capture disabled"]
    assert comparison.first_divergence is None  # a note only one run has is not a missing stage
    assert comparison.exit_code == 0


# -- stage order ------------------------------------------------------------------------------------

def test_stages_follow_the_reference_runs_event_order():
    events = [ev("env", 1), ev("seed/tf.random.set_seed#1", 1), ev("weights/fit#1/init", "w"),
              ev("data/fit#1/epoch-1", "d"), ev("weights/fit#1/epoch-1", "w1"), ev("metrics/fit#1/epoch-1", 0.5),
              ev("exit", 0)]
    comparison = compare(runs_for(s1_1=events, s1_2=events))
    assert keys(comparison) == [e.key for e in events]  # not sorted


def test_reference_order_comes_from_the_first_run_that_finished_ok():
    ok_order = [ev("b", 1, kind="rng"), ev("a", 1, kind="rng"), ev("c", 1, kind="rng")]
    failed_order = [ev("c", 1, kind="rng"), ev("a", 1, kind="rng"), ev("b", 1, kind="rng")]
    runs = [run("s1#1", 1, failed_order, status="failed"), run("s1#2", 1, ok_order), run("s1#3", 1, ok_order)]
    comparison = compare(runs)
    assert comparison.reference.name == "s1#2"
    assert keys(comparison) == ["b", "a", "c"]


def test_a_stage_only_another_run_has_goes_right_after_its_predecessor_there():
    first = [ev("weights/fit#1/init", "w"), ev("data/fit#1/epoch-1", "d"), ev("exit", 0)]
    second = [ev("rng/numpy.random.permutation@prep.py:9#1", "p"), ev("weights/fit#1/init", "w"),
              ev("shuffle/tf.random.shuffle@train.py:17#1", "s"), ev("shuffle/tf.random.shuffle@train.py:17#2", "s"),
              ev("data/fit#1/epoch-1", "d"), ev("exit", 0)]
    comparison = compare(runs_for(s1_1=first, s1_2=second))
    assert keys(comparison) == ["rng/numpy.random.permutation@prep.py:9#1", "weights/fit#1/init",
                                "shuffle/tf.random.shuffle@train.py:17#1", "shuffle/tf.random.shuffle@train.py:17#2",
                                "data/fit#1/epoch-1", "exit"]
    assert stage(comparison, "shuffle/tf.random.shuffle@train.py:17#1").verdict == C.MISSING


# -- the first divergence ---------------------------------------------------------------------------

def test_first_divergence_is_the_earliest_diverged_stage_in_event_order():
    def events(i: int) -> list[Event]:
        return [ev("weights/fit#1/init", "w"), ev("metrics/fit#1/epoch-1", 0.5 + i),
                ev("data/fit#1/epoch-2", f"d{i}"), ev("exit", 0)]
    comparison = compare(runs_for(s1_1=events(1), s1_2=events(2)))
    assert stage(comparison, "data/fit#1/epoch-2").verdict == C.DIVERGED
    assert comparison.first_divergence.stage.key == "metrics/fit#1/epoch-1"  # not alphabetical "data/…"
    assert comparison.first_divergence.runs == ("s1#1", "s1#2")


def test_weights_divergence_names_the_differing_variables_and_the_size():
    a = weights("weights/fit#1/init", ("dense/kernel", "k1", [0.1, 0.2, 0.3]), ("dense/bias", "b", [0.0, 0.0]),
                ("dense_1/kernel", "m1", [1.0, -1.0]))
    b = weights("weights/fit#1/init", ("dense/kernel", "k2", [0.1, 0.61, 0.3]), ("dense/bias", "b", [0.0, 0.0]),
                ("dense_1/kernel", "m2", [1.0, -1.25]))
    comparison = compare(runs_for(s1_1=[a], s1_2=[b], s1_3=[a]))
    divergence = comparison.first_divergence
    assert divergence.stage.key == "weights/fit#1/init"
    assert divergence.runs == ("s1#1", "s1#2")
    text = divergence.explanation
    assert "dense/kernel" in text and "dense_1/kernel" in text
    assert "dense/bias" not in text
    assert "2 of 3" in text
    assert "0.41" in text  # max |Δ| over the samples: |0.2 - 0.61|


def test_variable_differences_lists_each_differing_variable_with_its_max_delta():
    a = weights("weights/step-200", ("w", "1", [1.0, 2.0]), ("v", "same", [0.0]), ("u", "3", ["NaN", 1.0]))
    b = weights("weights/step-200", ("w", "2", [1.5, 1.0]), ("v", "same", [0.0]), ("u", "4", ["NaN", 0.75]))
    assert C.variable_differences(a, b) == [("w", pytest.approx(1.0)), ("u", pytest.approx(0.25))]


def test_weights_divergence_names_a_single_differing_variable():
    a = weights("weights/step-200", ("custom/w", "1", [1.0, 2.0]))
    b = weights("weights/step-200", ("custom/w", "2", [1.5, 2.0]))
    comparison = compare(runs_for(s1_1=[a], s1_2=[b]))
    assert "custom/w" in comparison.first_divergence.explanation


def test_data_divergence_names_the_first_differing_batch():
    a = data("data/fit#1/epoch-1", 10, ["b1", "b2", "b3", "b4"])
    b = data("data/fit#1/epoch-1", 10, ["b1", "b2", "bX", "b4"])
    comparison = compare(runs_for(s1_1=[a], s1_2=[b]))
    text = comparison.first_divergence.explanation
    assert "batch 3 of 10" in text


def test_data_divergence_with_different_batch_counts_names_both_counts():
    a = data("data/fit#1/epoch-1", 10, ["b1", "b2"])
    b = data("data/fit#1/epoch-1", 9, ["b1", "b2"])
    text = compare(runs_for(s1_1=[a], s1_2=[b])).first_divergence.explanation
    assert "10" in text and "9" in text


def test_missing_stage_is_not_the_first_divergence_when_only_failed_runs_lack_it():
    full = [ev("weights/fit#1/init", "w0"), ev("weights/fit#1/epoch-1", "w1"), ev("exit", 0)]
    crashed = [ev("weights/fit#1/init", "w0")]
    runs = [run("s1#1", 1, full), run("s1#2", 1, full), run("s1#3", 1, crashed, status="failed")]
    comparison = compare(runs)
    assert stage(comparison, "weights/fit#1/epoch-1").verdict == C.MISSING
    assert comparison.first_divergence is None
    assert comparison.verdict == "failed"
    assert comparison.exit_code == 3


def test_a_stage_only_runs_that_ended_early_lack_is_not_reached_not_missing():
    """Two runs timed out at different epochs: the later epochs were counted as diverged or missing,
    as if the runs had taken different paths. Their failure is the verdict (exit 3); those cells are
    empty, the row says why. A run that finished and lacks a stage is still missing."""
    from seedcheck.report.labels import summary_line, verdict_text

    epochs = [ev(f"weights/fit#1/epoch-{n}", f"w{n}") for n in (1, 2, 3)]
    slower, faster = run("s1#1", 1, epochs[:2], status="timeout"), run("s1#2", 1, epochs, status="timeout")
    comparison = explain(compare([slower, faster]))
    third = stage(comparison, "weights/fit#1/epoch-3")
    assert third.verdict == C.MISSING and third.not_reached == "timed out" and not third.fails
    assert verdict_text(third) == "not reached (timed out)" and comparison.exit_code == 3
    assert summary_line(comparison)[0] == "✘ 2 of 2 runs failed; 0 of 2 stages diverged or missing (1 not reached)."
    finished = run("s1#3", 1, epochs[:2] + [ev("exit", 0)])
    mixed = compare([faster, finished])
    assert stage(mixed, "weights/fit#1/epoch-3").fails and not stage(mixed, "weights/fit#1/epoch-3").not_reached


def test_missing_stage_is_the_first_divergence_when_an_ok_run_lacks_it():
    full = [ev("weights/fit#1/init", "w0"), ev("output/model.keras", "m"), ev("exit", 0)]
    other_path = [ev("weights/fit#1/init", "w0"), ev("exit", 0)]
    crashed = [ev("weights/fit#1/init", "w0")]
    runs = [run("s1#1", 1, full), run("s1#2", 1, other_path), run("s1#3", 1, crashed, status="failed")]
    divergence = compare(runs).first_divergence
    assert divergence is not None
    assert divergence.stage.key == "output/model.keras"
    assert "s1#2" in divergence.explanation


def test_divergence_between_ok_runs_is_reported_even_when_a_crashed_run_lacks_the_stage():
    crashed = [ev("weights/fit#1/init", "w0")]
    runs = [run("s1#1", 1, [ev("weights/fit#1/init", "w0"), ev("weights/fit#1/epoch-1", "w1")]),
            run("s1#2", 1, [ev("weights/fit#1/init", "w0"), ev("weights/fit#1/epoch-1", "OTHER")]),
            run("s1#3", 1, crashed, status="failed")]
    comparison = compare(runs)
    assert comparison.exit_code == 3  # the failed run still wins
    assert comparison.first_divergence is not None
    assert comparison.first_divergence.stage.key == "weights/fit#1/epoch-1"


# -- verdict and exit code --------------------------------------------------------------------------

def test_a_failed_run_wins_over_diverged_stages():
    runs = [run("s1#1", 1, [ev("weights/fit#1/init", "a")]),
            run("s1#2", 1, [ev("weights/fit#1/init", "b")], status="failed")]
    comparison = compare(runs)
    assert stage(comparison, "weights/fit#1/init").verdict == C.DIVERGED
    assert comparison.first_divergence is not None
    assert [r.name for r in comparison.failed_runs] == ["s1#2"]
    assert comparison.verdict == "failed"
    assert comparison.exit_code == 3


@pytest.mark.parametrize("status", ["failed", "timeout"])
def test_a_failed_run_without_a_trace_fails_the_comparison(status):
    events = [ev("weights/fit#1/init", "a")]
    runs = [run("s1#1", 1, events), run("s1#2", 1, events),
            RunResult("s1#3", 1, status=status, exit_code=None, trace=None)]
    comparison = compare(runs)
    assert stage(comparison, "weights/fit#1/init").verdict == C.REPRODUCIBLE  # judged on the traced runs
    assert comparison.verdict == "failed"
    assert comparison.exit_code == 3


def test_an_interrupted_comparison_exits_130():
    events = [ev("weights/fit#1/init", "a")]
    runs = [run("s1#1", 1, events), RunResult("s1#2", 1, status="interrupted", trace=None)]
    comparison = compare(runs, interrupted=True)
    assert comparison.interrupted
    assert comparison.exit_code == 130

    diverged = compare(runs_for(s1_1=[ev("weights/fit#1/init", "a")], s1_2=[ev("weights/fit#1/init", "b")]),
                       interrupted=True)
    assert diverged.exit_code == 130


# -- hints ------------------------------------------------------------------------------------------

def init_divergence_runs(*seed_events: Event, stage_key: str = "weights/fit#1/init") -> list[RunResult]:
    """Two runs of seed 1 whose weights differ at the start of training, after `seed_events`."""
    if stage_key.startswith("init/"):
        a = ev(stage_key, "k1", detail={"name": "dense/kernel", "fp": "k1", "sample": [0.1, 0.2]})
        b = ev(stage_key, "k2", detail={"name": "dense/kernel", "fp": "k2", "sample": [0.3, 0.2]})
    else:
        a = weights(stage_key, ("dense/kernel", "k1", [0.1, 0.2]), ("dense/bias", "b", [0.0]))
        b = weights(stage_key, ("dense/kernel", "k2", [0.3, 0.2]), ("dense/bias", "b", [0.0]))
    env = ev("env", {"tf": "2.21.0", "keras": "3.15.1"})
    return runs_for(s1_1=[env, *seed_events, a], s1_2=[env, *seed_events, b])


@pytest.mark.parametrize("stage_key", ["weights/fit#1/init", "init/dense/kernel#1"])
def test_tf_seed_only_at_init_is_the_keras3_initializers_rule(stage_key):
    comparison = explain(compare(init_divergence_runs(seed_call("tf.random.set_seed", 1, 1), stage_key=stage_key)))
    divergence = comparison.first_divergence
    assert divergence.stage.key == stage_key
    assert divergence.rule == "keras3-initializers"
    assert "keras.utils.set_random_seed" in divergence.fix
    assert "train.py:4" in divergence.cause  # where the script seeded TensorFlow
    assert "seeds only TensorFlow" in divergence.cause
    with_numpy = init_divergence_runs(seed_call("tf.random.set_seed", 1, 1),
                                      seed_call("numpy.random.seed", 1, 1, site="train.py:5"), stage_key=stage_key)
    cause = explain(compare(with_numpy)).first_divergence.cause
    assert "seeds TensorFlow at train.py:4 and numpy at train.py:5, not Python" in cause and "only" not in cause
    one_helper = init_divergence_runs(seed_call("tf.random.set_seed", 1, 1), seed_call("numpy.random.seed", 1, 1),
                                      stage_key=stage_key)
    assert "seeds TensorFlow and numpy at train.py:4, not Python" in explain(compare(one_helper)).first_divergence.cause


def test_numpy_seed_only_at_init_is_the_keras3_initializers_rule():
    """np.random.seed(10) alone, a common habit: the init rows diverge; a probe saw no cause and no fix."""
    divergence = explain(compare(init_divergence_runs(seed_call("numpy.random.seed", 10, 10)))).first_divergence
    assert divergence.rule == "keras3-initializers"
    assert "not from numpy.random.seed (the script seeds only numpy at train.py:4)" in divergence.cause
    assert divergence.fix.startswith("call keras.utils.set_random_seed(seed) instead of (or besides) numpy.random.seed")


def test_a_tf_seed_set_after_an_unseeded_shuffle_is_named_as_too_late_for_it():
    shuffle = ev("shuffle/tf.data.Dataset.shuffle@train.py:9#1", {"buffer": 64}, site="train.py:9",
                 detail={"api": "tf.data.Dataset.shuffle", "seed": None, "unseeded": True})
    late = seed_call("keras.utils.set_random_seed", 1, 1, site="train.py:11")
    runs = runs_for(s1_1=[shuffle, late, ev("data/fit#1/epoch-1", "d1")], s1_2=[shuffle, late, ev("data/fit#1/epoch-1", "d2")])
    divergence = explain(compare(runs)).first_divergence
    assert divergence.rule == "unseeded-dataset-shuffle"
    assert "(keras.utils.set_random_seed at train.py:11 comes after it)" in divergence.cause


@pytest.mark.parametrize("python_seeding", ["keras.utils.set_random_seed", "random.seed"])
def test_keras3_rule_does_not_match_when_python_is_seeded_too(python_seeding):
    runs = init_divergence_runs(seed_call("tf.random.set_seed", 1, 1),
                                seed_call(python_seeding, 1, 1, site="train.py:5"))
    divergence = explain(compare(runs)).first_divergence
    assert divergence is not None
    assert divergence.rule != "keras3-initializers"


def test_no_seeding_calls_is_the_seeds_nothing_rule():
    divergence = explain(compare(init_divergence_runs())).first_divergence
    assert divergence.rule == "seeds-nothing"
    assert "keras.utils.set_random_seed" in divergence.fix


def _training_runs(data_b: str = "d") -> list[RunResult]:
    seed = seed_call("keras.utils.set_random_seed", 1, 1)
    init = weights("weights/fit#1/init", ("dense/kernel", "k", [0.1]))

    def events(w1: tuple[str, list[float]], d: str) -> list[Event]:
        return [seed, init, ev("data/fit#1/epoch-1", d), weights("weights/fit#1/epoch-1", ("dense/kernel", *w1)),
                ev("metrics/fit#1/epoch-1", 0.4 if w1[0] == "e1" else 0.41)]
    return runs_for(s1_1=events(("e1", [0.5]), "d"), s1_2=events(("e2", [0.52]), data_b))


def test_identical_init_and_data_but_diverging_training_is_training_nondeterminism():
    comparison = explain(compare(_training_runs()))
    divergence = comparison.first_divergence
    assert divergence.stage.key == "weights/fit#1/epoch-1"
    assert stage(comparison, "weights/fit#1/init").verdict == C.REPRODUCIBLE
    assert stage(comparison, "data/fit#1/epoch-1").verdict == C.REPRODUCIBLE
    assert divergence.rule == "training-nondeterminism"
    assert "enable_op_determinism" in divergence.fix
    # No env recorded, so PYTHONHASHSEED was not set: a vocabulary from a set's order inside the
    # model is named, with the vary run that tells (a probe got only enable_op_determinism).
    assert "PYTHONHASHSEED is not set" in divergence.cause and "--vary hashseed" in divergence.fix
    pinned = _training_runs()
    for r in pinned:
        r.trace.events.insert(0, ev("env", {"env": {"PYTHONHASHSEED": "0"}}))
    hint = explain(compare(pinned)).first_divergence
    assert hint.rule == "training-nondeterminism" and "PYTHONHASHSEED" not in hint.cause + hint.fix


def test_the_vary_command_a_fix_suggests_puts_the_scripts_arguments_last():
    # A reviewer's find: `seedcheck vary train.py ... -- --epochs 2 --vary hashseed` gave --vary to the script.
    runs = _training_runs()
    for r in runs:
        r.trace.header.update(target="train.py", command=["train.py", "--epochs", "2"])
    fix = explain(compare(runs)).first_divergence.fix
    assert "`seedcheck vary train.py --seed 1 --vary hashseed -- --epochs 2`" in fix
    for r in runs:  # the script's own seeding: vary needs no --seed (it was `--seed SEED`)
        r.seed = None
        r.trace.header["seed"] = None
    assert "`seedcheck vary train.py --vary hashseed -- --epochs 2`" in explain(compare(runs)).first_divergence.fix


def test_diverging_training_with_nothing_seeding_tensorflow_is_tf_not_seeded():
    """Python and numpy seeded, init and data agree, weights part in training: with no TF seed a
    random op in the step is the likelier cause, and enable_op_determinism() would make it raise."""
    seeded = [seed_call("random.seed", 1, 1), seed_call("numpy.random.seed", 1, 1)]
    init = weights("weights/fit#1/init", ("dense/kernel", "k", [0.1]))

    def events(w1: tuple[str, list[float]]) -> list[Event]:
        return [*seeded, init, ev("data/fit#1/epoch-1", "d"), weights("weights/fit#1/epoch-1", ("dense/kernel", *w1))]
    divergence = explain(compare(runs_for(s1_1=events(("e1", [0.5])), s1_2=events(("e2", [0.52]))))).first_divergence
    assert divergence.stage.key == "weights/fit#1/epoch-1"
    assert divergence.rule == "tf-not-seeded"
    assert "set_random_seed" in divergence.fix and "enable_op_determinism" not in divergence.fix


def test_diverging_data_order_is_not_training_nondeterminism():
    divergence = explain(compare(_training_runs(data_b="other order"))).first_divergence
    assert divergence.stage.key == "data/fit#1/epoch-1"
    assert divergence.rule != "training-nondeterminism"


def test_seed_insensitive_weights_warn_and_name_the_hard_coded_call():
    events = [seed_call("tf.random.set_seed", 42, 42, site="train.py:7"),
              weights("weights/fit#1/init", ("w", "k", [0.1])), ev("data/fit#1/epoch-1", "d")]
    comparison = explain(compare(runs_for(s1_1=events, s1_2=events, s2_1=events, s2_2=events)))
    assert stage(comparison, "weights/fit#1/init").verdict == C.SEED_INSENSITIVE
    assert comparison.first_divergence is None
    assert comparison.exit_code == 0
    assert len(comparison.warnings) == 1
    warning = comparison.warnings[0]
    assert "tf.random.set_seed(42)" in warning
    assert "train.py:7" in warning
    assert "weights/fit#1/init" in warning


def test_a_keras_reseed_after_the_scripts_seed_is_named_even_when_a_run_seed_equals_the_literal():
    """The script's set_random_seed(7) took each run's seed (overridden, though under --seed 7 it got 7
    back); split_dataset's random.seed(42) after it did not. The script's own variables (a step
    counter) may rightly be the same for every seed: no warning of their own."""
    def events(seed: int) -> list[Event]:
        own = ev("seed/keras.utils.set_random_seed#1", seed, site="train.py:3",
                 detail={"api": "keras.utils.set_random_seed", "asked": 7, "applied": seed, "overridden": True})
        split = ev("seed/random.seed#1", 42, site="train.py:5",
                   detail={"api": "random.seed", "asked": 42, "applied": 42, "overridden": False,
                           "via": "keras/src/utils/dataset_utils.py:140"})
        return [own, split, weights("weights/fit#1/init", ("w", "k", [0.1]))]
    runs = runs_for(s7_1=events(7), s8_1=events(8))
    for r in runs:
        r.trace.header["override"] = True
    warnings = explain(compare(runs)).warnings
    assert len(warnings) == 1 and "random.seed(42)" in warnings[0] and "reseeds with a fixed seed after them" in warnings[0]
    assert "set_random_seed(7)" not in warnings[0]
    counter = [weights("weights/final/script-variables", ("step", "c", [40.0]))]
    quiet = explain(compare(runs_for(s1_1=counter, s2_1=counter)))
    assert stage(quiet, "weights/final/script-variables").verdict == C.SEED_INSENSITIVE
    assert not any("same for every seed" in w for w in quiet.warnings)


def test_seed_insensitive_env_alone_is_not_a_warning():
    events = [ev("env", {"tf": "2.21.0"})]
    comparison = explain(compare(runs_for(s1_1=events, s1_2=events, s2_1=events, s2_2=events)))
    assert stage(comparison, "env").verdict == C.REPRODUCIBLE
    assert not any("ignores the seed" in warning for warning in comparison.warnings)
    assert comparison.warnings == [hints._no_result_recorded(comparison)[0]]  # nothing but the environment


def test_an_output_file_alone_differing_names_the_rngs_nothing_seeds():
    seeded = seed_call("numpy.random.seed", 1, 1)
    exit_event = ev("exit", 0, detail={"tensorflow_used": False})
    runs = runs_for(s1_1=[seeded, ev("output/w.npy", "aa", detail={"path": "w.npy"}), exit_event],
                    s1_2=[seeded, ev("output/w.npy", "bb", detail={"path": "w.npy"}), exit_event])
    comparison = explain(compare(runs))
    divergence = comparison.first_divergence
    assert divergence.rule == "output-only"
    assert "nothing seeds Python's `random`" in divergence.cause and "numpy" not in divergence.cause.split("seeds")[-1]
    assert not any("no result" in warning for warning in comparison.warnings)  # the artifact is a result


def test_hints_name_only_the_rngs_of_modules_the_script_imported():
    """A script with no numpy is not told to seed numpy (traces without the flag: assumed imported)."""
    def first(exit_detail):
        exit_event = ev("exit", 0, detail=exit_detail)
        runs = runs_for(s1_1=[ev("output/out.txt", "aa", detail={"path": "out.txt"}), exit_event],
                        s1_2=[ev("output/out.txt", "bb", detail={"path": "out.txt"}), exit_event])
        return explain(compare(runs)).first_divergence

    bare = first({"tensorflow_used": False, "numpy_used": False})
    assert bare.rule == "seeds-nothing" and "np." not in bare.fix and "random.seed(seed)" in bare.fix
    with_numpy = first({"tensorflow_used": False, "numpy_used": True})
    assert "np.random.seed(seed)" in with_numpy.fix
    assert "np.random.seed(seed)" in first({"tensorflow_used": False}).fix  # an older trace
    seeded = seed_call("random.seed", 1, 1)
    exit_event = ev("exit", 0, detail={"tensorflow_used": False, "numpy_used": False})
    runs = runs_for(s1_1=[seeded, ev("output/out.txt", "aa", detail={"path": "out.txt"}), exit_event],
                    s1_2=[seeded, ev("output/out.txt", "bb", detail={"path": "out.txt"}), exit_event])
    divergence = explain(compare(runs)).first_divergence
    assert divergence.rule == "output-only" and "nothing seeds" not in divergence.cause, divergence.cause


def test_a_missing_stage_gets_no_training_hint():
    """No rule for diverged values speaks for a stage one run did not reach; only what the order of
    the runs says (the first run reached it: skipped-by-later-runs) does."""
    full = [ev("weights/fit#1/init", "w0"), ev("output/model.keras", "m")]
    comparison = explain(compare(runs_for(s1_1=full[:1], s1_2=full)))
    assert comparison.first_divergence.stage.verdict == C.MISSING
    assert comparison.first_divergence.rule is None
    assert explain(compare(runs_for(s1_1=full, s1_2=full[:1]))).first_divergence.rule == "skipped-by-later-runs"


# -- tolerance, --ignore, the environment ----------------------------------------------------------

def test_weights_within_tolerance_are_close_and_pass():
    a = weights("weights/fit#1/epoch-1", ("k", "fp-a", [0.5, -0.25, 1.0]), ("b", "fp-same", [0.0]))
    b = weights("weights/fit#1/epoch-1", ("k", "fp-b", [0.5 + 1e-7, -0.25, 1.0 - 2e-7]), ("b", "fp-same", [0.0]))
    runs = runs_for(s1_1=[a], s1_2=[b])
    assert compare(runs).first_divergence is not None  # bitwise by default
    comparison = compare(runs, tolerance=C.Tolerance(rtol=1e-5))
    s = stage(comparison, "weights/fit#1/epoch-1")
    assert s.verdict == C.CLOSE and not s.fails
    assert s.deviation == pytest.approx(2e-7, rel=1e-3)
    assert comparison.first_divergence is None and comparison.exit_code == 0


def test_weights_beyond_tolerance_stay_diverged():
    a = weights("weights/fit#1/epoch-1", ("k", "fp-a", [0.5, -0.25]))
    b = weights("weights/fit#1/epoch-1", ("k", "fp-b", [0.5, -0.26]))
    comparison = compare(runs_for(s1_1=[a], s1_2=[b]), tolerance=C.Tolerance(rtol=1e-3, atol=1e-6))
    assert stage(comparison, "weights/fit#1/epoch-1").verdict == C.DIVERGED
    assert comparison.exit_code == 1


def test_weights_with_other_variables_or_shapes_are_never_close():
    a = weights("weights/fit#1/epoch-1", ("k", "fp-a", [0.5]))
    renamed = weights("weights/fit#1/epoch-1", ("other", "fp-b", [0.5]))
    comparison = compare(runs_for(s1_1=[a], s1_2=[renamed]), tolerance=C.Tolerance(atol=1.0))
    assert stage(comparison, "weights/fit#1/epoch-1").verdict == C.DIVERGED


def test_metrics_within_tolerance_are_close_but_data_and_seeds_never_are():
    runs = runs_for(s1_1=[ev("metrics/fit#1/epoch-1/loss", 0.5), data("data/fit#1/epoch-1", 4, ["a"]),
                          ev("rng/keras.random.SeedGenerator@t.py:1#1", 10, kind="rng")],
                    s1_2=[ev("metrics/fit#1/epoch-1/loss", 0.5000001), data("data/fit#1/epoch-1", 4, ["b"]),
                          ev("rng/keras.random.SeedGenerator@t.py:1#1", 11, kind="rng")])
    comparison = compare(runs, tolerance=C.Tolerance(rtol=1e-3, atol=10))
    assert stage(comparison, "metrics/fit#1/epoch-1/loss").verdict == C.CLOSE
    assert stage(comparison, "data/fit#1/epoch-1").verdict == C.DIVERGED
    assert stage(comparison, "rng/keras.random.SeedGenerator@t.py:1#1").verdict == C.DIVERGED


def test_nan_metrics_are_equal_to_nan_and_never_close_to_a_number():
    same = compare(runs_for(s1_1=[ev("metrics/m", "NaN")], s1_2=[ev("metrics/m", "NaN")]))
    assert stage(same, "metrics/m").verdict == C.REPRODUCIBLE
    mixed = compare(runs_for(s1_1=[ev("metrics/m", "NaN")], s1_2=[ev("metrics/m", 0.5)]),
                    tolerance=C.Tolerance(atol=1e9))
    assert stage(mixed, "metrics/m").verdict == C.DIVERGED


def test_a_close_stage_missing_from_a_run_is_missing():
    runs = runs_for(s1_1=[ev("metrics/m", 0.5)], s1_2=[ev("metrics/m", 0.5000001)], s1_3=[ev("exit", 0)])
    comparison = compare(runs, tolerance=C.Tolerance(rtol=1e-3))
    assert stage(comparison, "metrics/m").verdict == C.MISSING


def test_ignored_stages_keep_their_verdict_aside_and_do_not_fail():
    runs = runs_for(s1_1=[ev("metrics/fit#1/epoch-1/time", 1.5), ev("weights/w", "a")],
                    s1_2=[ev("metrics/fit#1/epoch-1/time", 1.7), ev("weights/w", "a")])
    comparison = compare(runs, ignore=("metrics/*/time", "nothing/*"))
    s = stage(comparison, "metrics/fit#1/epoch-1/time")
    assert s.verdict == C.IGNORED and s.ignored_verdict == C.DIVERGED and not s.fails
    assert comparison.exit_code == 0 and comparison.first_divergence is None
    assert comparison.warnings == ["--ignore 'nothing/*' matches no stage (stage keys are listed by `seedcheck show` "
                                   "and in the JSON report)"]


def test_environment_differences_are_listed_by_field_and_never_fail():
    env_a = {"python": "3.11.7", "cpus": 2, "packages": {"keras": "3.15.1"}, "env": {"TF_NUM_INTRAOP_THREADS": "1"}}
    env_b = {"python": "3.11.7", "cpus": 8, "packages": {"keras": "3.15.1"}, "env": {}}
    runs = runs_for(s1_1=[ev("env", env_a), ev("env/tensorflow", {"tensorflow": "2.21.0"}), ev("weights/w", "a")],
                    s1_2=[ev("env", env_b), ev("env/tensorflow", {"tensorflow": "2.20.0"}), ev("weights/w", "a")])
    comparison = compare(runs)
    assert stage(comparison, "env").verdict == C.DIFFERS
    assert comparison.exit_code == 0
    found = {d.field: d.values for d in comparison.env_differences}
    assert found == {"cpus": {"s1#1": 2, "s1#2": 8},
                     "env.TF_NUM_INTRAOP_THREADS": {"s1#1": "1", "s1#2": None},
                     "tensorflow.version": {"s1#1": "2.21.0", "s1#2": "2.20.0"}}
    labels = [d.label for d in comparison.env_differences]
    assert labels == ["cpus", "$TF_NUM_INTRAOP_THREADS", "tensorflow.version"]


def test_identical_start_diverging_training_with_env_differences_is_the_environment_rule():
    init = ev("init/dense/kernel#1", "k", site="train.py:9")
    seeded = seed_call("keras.utils.set_random_seed", 1, 1)
    runs = runs_for(s1_1=[ev("env", {"env": {"OMP_NUM_THREADS": "1"}}), seeded, init, weights("weights/fit#1/epoch-1", ("k", "a", [1.0]))],
                    s1_2=[ev("env", {"env": {"OMP_NUM_THREADS": "4"}}), seeded, init, weights("weights/fit#1/epoch-1", ("k", "b", [2.0]))])
    divergence = explain(compare(runs)).first_divergence
    assert divergence is not None and divergence.rule == "environment-difference"
    assert "$OMP_NUM_THREADS" in divergence.cause
    # A third run (vary's other variation) differs in another setting: not this pair's difference.
    third = run("s1#3", 1, [ev("env", {"env": {"OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}}), seeded, init,
                            weights("weights/fit#1/epoch-1", ("k", "a", [1.0]))])
    divergence = explain(compare([*runs, third])).first_divergence
    assert divergence.runs == ("s1#1", "s1#2") and "$OMP_NUM_THREADS" in divergence.cause
    assert "PYTHONHASHSEED" not in divergence.cause, divergence.cause


def test_baseline_runs_are_named_and_come_first(tmp_path: Path):
    from seedcheck.saved import Source, name_runs

    base = Source(tmp_path / "base", [run("s1#1", 1, [])], baseline=True)
    a = Source(tmp_path / "machine-a", [run("s1#1", 1, [])])
    b = Source(tmp_path / "machine-b", [run("s1#1", 1, []), run("s1#2", 1, [])])
    for folder in ("base", "machine-a", "machine-b"):
        (tmp_path / folder).mkdir()
    name_runs([base, a, b])
    assert [r.name for s in (base, a, b) for r in s.runs] == ["base:s1#1", "machine-a:s1#1", "machine-b:s1#1",
                                                                "machine-b:s1#2"]
    single = Source(tmp_path / "machine-a", [run("s1#1", 1, [])])
    name_runs([single])
    assert single.runs[0].name == "s1#1"  # no collision, no prefix


# -- --artifact files a run did not write ----------------------------------------------------------

def artifact(path: str, fp: str | None) -> Event:
    detail = {"path": path, "missing": True} if fp is None else {"path": path, "size": 10}
    return ev(f"output/{path}", fp, detail=detail)


def test_an_artifact_no_run_wrote_is_missing_and_fails_with_a_path_hint():
    comparison = explain(compare(runs_for(s1_1=[artifact("out/m.keras", None)], s1_2=[artifact("out/m.keras", None)])))
    assert stage(comparison, "output/out/m.keras").verdict == C.MISSING
    assert comparison.exit_code == 1
    divergence = comparison.first_divergence
    assert divergence is not None and divergence.stage.key == "output/out/m.keras"
    assert "no run wrote it" in divergence.explanation and "path" in (divergence.fix or "")


def test_an_artifact_one_run_did_not_write_is_missing_not_diverged():
    comparison = compare(runs_for(s1_1=[artifact("m.bin", "aa11")], s1_2=[artifact("m.bin", None)]))
    assert stage(comparison, "output/m.bin").verdict == C.MISSING
    assert comparison.first_divergence is not None
    assert comparison.first_divergence.explanation == "m.bin was not written by s1#2 (only by s1#1)"
    assert comparison.first_divergence.runs == ("s1#1", "s1#2")


def test_an_artifact_every_run_wrote_alike_is_reproducible():
    comparison = compare(runs_for(s1_1=[artifact("m.bin", "aa11")], s1_2=[artifact("m.bin", "aa11")]))
    assert stage(comparison, "output/m.bin").verdict == C.REPRODUCIBLE
    assert comparison.exit_code == 0


def stopped_at(steps: int) -> Event:
    """The exit event of a run --max-steps stopped (and the script with it)."""
    return ev("exit", 0, kind="exit", detail={"max_steps": steps, "steps": steps, "stopped": True})


def test_an_artifact_max_steps_kept_every_run_from_writing_is_not_reached_and_passes():
    comparison = explain(compare(runs_for(s1_1=[stopped_at(5), artifact("m.bin", None)],
                                          s1_2=[stopped_at(5), artifact("m.bin", None)])))
    artifact_stage = stage(comparison, "output/m.bin")
    assert artifact_stage.verdict == C.MISSING and artifact_stage.not_reached and not artifact_stage.fails
    assert comparison.exit_code == 0 and comparison.first_divergence is None
    assert any("--max-steps stopped" in warning for warning in comparison.warnings)
    assert keys(comparison)[-1] == "exit"  # the output event follows exit in the trace, not in the report


def test_an_artifact_a_run_not_stopped_by_max_steps_did_not_write_still_fails():
    unstopped = ev("exit", 0, kind="exit", detail={"max_steps": 5, "steps": 3, "stopped": False})
    comparison = compare(runs_for(s1_1=[stopped_at(5), artifact("m.bin", None)],
                                  s1_2=[unstopped, artifact("m.bin", None)]))
    assert stage(comparison, "output/m.bin").fails and comparison.exit_code == 1


def test_an_exit_event_the_runner_wrote_is_reported_as_a_warning():
    """A script that ends its own process (os._exit) leaves no hook exit event; the runner writes one."""
    by_runner = ev("exit", 0, detail={"duration_s": 1.0, "written_by": "runner"})
    comparison = compare(runs_for(s1_1=[ev("seed/random.seed#1", 1), by_runner],
                                  s1_2=[ev("seed/random.seed#1", 1), by_runner]))
    assert comparison.exit_code == 0
    assert any("os._exit" in warning and "s1#1, s1#2" in warning for warning in comparison.warnings)
    plain = compare(runs_for(s1_1=[ev("exit", 0)], s1_2=[ev("exit", 0)]))
    assert not any("os._exit" in warning for warning in plain.warnings)


def test_a_difference_only_a_crashed_run_has_is_not_the_first_divergence():
    """A run that crashed in epoch 2 has 'final' weights from epoch 1: not a divergence to explain."""
    epoch = weights("weights/fit#1/epoch-1", ("d/kernel", "aa", [0.1]))
    done = [epoch, weights("weights/fit#1/epoch-2", ("d/kernel", "bb", [0.2])),
            weights("weights/final/sequential#1", ("d/kernel", "bb", [0.2]))]
    crashed = run("s1#2", 1, [epoch, weights("weights/final/sequential#1", ("d/kernel", "aa", [0.1]))], status="failed")
    comparison = explain(compare([run("s1#1", 1, done), crashed]))
    assert stage(comparison, "weights/final/sequential#1").verdict == C.DIVERGED
    assert comparison.exit_code == 3
    assert comparison.first_divergence is None or comparison.first_divergence.stage.key != "weights/final/sequential#1"
    # Two runs that finished and differ are still the first divergence, a crashed third or not.
    third = run("s1#3", 1, [epoch, weights("weights/fit#1/epoch-2", ("d/kernel", "cc", [0.3])),
                            weights("weights/final/sequential#1", ("d/kernel", "cc", [0.3]))])
    comparison = explain(compare([run("s1#1", 1, done), crashed, third]))
    assert comparison.first_divergence is not None
    assert comparison.first_divergence.stage.key == "weights/fit#1/epoch-2"


# -- hints added from a review of real scripts ------------------------------------------------------

def test_weights_made_before_the_seeding_call_are_seeded_too_late():
    env = ev("env", {"tf": "2.21.0"})
    late = seed_call("keras.utils.set_random_seed", 1, 1, site="train.py:20")

    def events(fp: str) -> list[Event]:
        return [env, ev("init/dense/kernel#1", fp, site="train.py:12",
                        detail={"name": "dense/kernel", "fp": fp, "sample": [0.1]}), late]
    divergence = explain(compare(runs_for(s1_1=events("k1"), s1_2=events("k2")))).first_divergence
    assert divergence.rule == "seeded-too-late"
    assert "train.py:12" in divergence.cause and "train.py:20" in divergence.cause
    # Seeded before the model: not this rule (the same divergence then has another cause).
    early = runs_for(s1_1=[env, late, *events("k1")[1:2]], s1_2=[env, late, *events("k2")[1:2]])
    assert explain(compare(early)).first_divergence.rule != "seeded-too-late"


def test_layers_made_before_the_seeding_call_are_seeded_too_late_though_built_after_it():
    """Keras 3 draws an initializer's seed, and a Dropout's SeedGenerator's, when the layer is made:
    a model built inside fit, after the seeding call, still drew them unseeded."""
    late = seed_call("keras.utils.set_random_seed", 1, 1, site="train.py:9")
    kernel = {"name": "dense/kernel", "sample": [0.1], "initializer_python_seeded": False}
    generator = {"api": "keras.random.SeedGenerator", "name": "seed_generator", "seed_arg": None, "unseeded": True,
                 "layer": "dropout (Dropout)", "made_at": "train.py:6", "python_seeded_when_made": False}
    for key, detail in (("init/dense/kernel#1", kernel), ("rng/keras.random.SeedGenerator@train.py:10#1", generator)):
        runs = runs_for(s1_1=[late, ev(key, "a", site="train.py:10", detail={**detail, "fp": "a"})],
                        s1_2=[late, ev(key, "b", site="train.py:10", detail={**detail, "fp": "b"})])
        divergence = explain(compare(runs)).first_divergence
        assert divergence.rule == "seeded-too-late" and "keras.utils.set_random_seed at train.py:9" in divergence.cause
        if key.startswith("rng/"):
            assert "dropout (Dropout) made at train.py:6" in divergence.cause


@pytest.mark.parametrize(("seeding", "rule"), [
    (["numpy.random.seed", "random.seed"], "data-without-tf-seed"),
    (["keras.utils.set_random_seed"], "hash-order"),
])
def test_fit_data_order_without_a_tensorflow_seed(seeding, rule):
    """fit(x, y, shuffle=True) shuffles with TF ops: numpy and Python seeds do not reach it."""
    calls = [seed_call(api, 1, 1, n=1, site=f"train.py:{3 + i}") for i, api in enumerate(seeding)]
    init = weights("weights/fit#1/init", ("dense/kernel", "k", [0.1]))
    runs = runs_for(s1_1=[*calls, init, ev("data/fit#1/epoch-1", "d1")],
                    s1_2=[*calls, init, ev("data/fit#1/epoch-1", "d2")])
    divergence = explain(compare(runs)).first_divergence
    assert divergence.rule == rule
    if rule == "data-without-tf-seed":
        assert "shuffle=True" in divergence.cause and "keras.utils.set_random_seed" in divergence.fix
    else:
        assert "parallel" in divergence.cause and "stateless" in divergence.fix


def test_data_that_differ_with_numpy_never_seeded_point_at_a_library_drawing_from_it():
    """scikit-learn's train_test_split without random_state draws from numpy's global RNG through
    its object's methods, which the hook cannot wrap: only the data show it."""
    calls = [seed_call("random.seed", 1, 1, site="train.py:3"), seed_call("tf.random.set_seed", 1, 1, site="train.py:4")]

    def events(fp: str, later: list[Event], drawn: bool = True) -> list[Event]:
        return [*calls, ev("data/loop@train.py:9/pass-1", fp, detail={"batches": 4}), *later,
                ev("exit", 0, detail={"numpy_used": True, "numpy_global_changed": drawn})]
    late = [seed_call("numpy.random.seed", 1, 1, site="train.py:12")]  # too late for the data
    divergence = explain(compare(runs_for(s1_1=events("d1", late), s1_2=events("d2", late)))).first_divergence
    assert divergence.rule == "numpy-not-seeded"
    # numpy's global RNG never drawn from (TF imports numpy all the same): no evidence, another rule.
    untouched = runs_for(s1_1=events("d1", [], drawn=False), s1_2=events("d2", [], drawn=False))
    assert explain(compare(untouched)).first_divergence.rule == "hash-order"
    assert "random.seed at train.py:3, tf.random.set_seed at train.py:4" in divergence.cause
    assert "train_test_split" in divergence.cause and "random_state=seed" in divergence.fix
    # numpy seeded before the data (or by a seedless call, which seeds nothing): another rule, or this one.
    seeded = [seed_call("numpy.random.seed", 1, 1, site="train.py:5")]
    assert explain(compare(runs_for(s1_1=seeded + events("d1", []), s1_2=seeded + events("d2", [])))) \
        .first_divergence.rule == "hash-order"
    seedless = [seed_call("numpy.random.seed", None, None, site="train.py:5")]
    assert explain(compare(runs_for(s1_1=seedless + events("d1", []), s1_2=seedless + events("d2", [])))) \
        .first_divergence.rule == "numpy-not-seeded"


def test_pythonhashseed_set_by_the_script_itself_is_said_to_be_too_late():
    """seed_everything's os.environ["PYTHONHASHSEED"] = str(seed): the hint said "is not set", which
    the script's author reads as wrong; hashing is fixed when Python starts."""
    seeded = seed_call("keras.utils.set_random_seed", 1, 1)

    def events(fp: str, late: bool) -> list[Event]:
        return [seeded, ev("data/fit#1/epoch-1", fp), ev("exit", 0, detail={"hashseed_set_late": True} if late else {})]
    divergence = explain(compare(runs_for(s1_1=events("d1", True), s1_2=events("d2", True)))).first_divergence
    assert divergence.rule == "hash-order" and "sets os.environ['PYTHONHASHSEED'] itself, too late" in divergence.cause
    assert "in the environment the script is started in;" in divergence.fix
    plain = explain(compare(runs_for(s1_1=events("d1", False), s1_2=events("d2", False)))).first_divergence
    assert "too late" not in plain.cause and "PYTHONHASHSEED=0 in the environment;" in plain.fix


def test_data_order_with_pythonhashseed_set_points_at_the_pipeline():
    env = ev("env", {"env": {"PYTHONHASHSEED": "0"}})
    seeded = seed_call("keras.utils.set_random_seed", 1, 1)
    runs = runs_for(s1_1=[env, seeded, ev("data/fit#1/epoch-1", "d1")], s1_2=[env, seeded, ev("data/fit#1/epoch-1", "d2")])
    divergence = explain(compare(runs)).first_divergence
    assert divergence.rule == "data-pipeline-order"
    assert "num_parallel_calls" in divergence.cause and "stateless" in divergence.fix


@pytest.mark.parametrize(("processes", "words"), [
    (False, ["workers=2", "2 threads at once", "no seed fixes"]),
    (True, ["use_multiprocessing=True", "copy of the parent's numpy RNG state"]),
])
def test_data_read_by_pydataset_workers_points_at_the_workers(processes, words):
    """Keras keeps a PyDataset's batches in order: a difference with workers is what __getitem__
    drew, in threads or in processes Keras seeds by their id. Without workers, another rule."""
    seeded = seed_call("keras.utils.set_random_seed", 1, 1)
    loader = {"type": "NoisyBatches", "workers": 2, "multiprocessing": processes}

    def events(fp: str, with_loader: bool) -> list[Event]:
        detail = {"batches": 20, "first_batches": [fp], **({"loader": loader} if with_loader else {})}
        return [seeded, ev("data/fit#1/epoch-1", fp, detail=detail)]
    divergence = explain(compare(runs_for(s1_1=events("d1", True), s1_2=events("d2", True)))).first_divergence
    assert divergence.rule == "parallel-loader"
    assert "PyDataset (NoisyBatches)" in divergence.cause and all(word in divergence.cause for word in words)
    assert "np.random.default_rng([seed, index])" in divergence.fix and "workers=1" in divergence.fix
    plain = explain(compare(runs_for(s1_1=events("d1", False), s1_2=events("d2", False)))).first_divergence
    assert plain.rule == "hash-order"


def test_seeded_draws_made_in_several_threads_explain_a_data_divergence():
    seeded = seed_call("keras.utils.set_random_seed", 1, 1)

    def events(fp: str, threads: list[int], is_seeded: bool = True, first: str = "p") -> list[Event]:
        draw = {"api": "numpy.random.permutation", "rng": "numpy", "size": 16, "seeded": is_seeded}
        return [seeded,
                ev("shuffle/numpy.random.permutation@prep.py:9#1", first, site="prep.py:9",
                   detail={**draw, **({"thread": threads[0]} if threads[0] else {})}),
                ev("data/loop@train.py:20/pass-1", fp, detail={"batches": 8}),
                ev("shuffle/numpy.random.permutation@prep.py:9#rest", "r", site="prep.py:9",
                   detail={**draw, "threads": threads})]
    divergence = explain(compare(runs_for(s1_1=events("d1", [1, 2, 3]), s1_2=events("d2", [1, 2])))).first_divergence
    assert divergence.rule == "threaded-draws"
    assert "prep.py:9" in divergence.cause and "3 threads" in divergence.cause
    assert "num_parallel_calls" in divergence.fix
    # A threaded draw that differs is blamed on the threads, not on "something drew a varying number of times".
    draw_first = explain(compare(runs_for(s1_1=events("d", [1, 2], first="a"), s1_2=events("d", [1, 2], first="b"))))
    assert draw_first.first_divergence.rule == "threaded-draws"
    # One worker thread (a script trained inside a thread), or the main thread only: no evidence.
    for threads in ([1], [0]):
        runs = runs_for(s1_1=events("d1", threads), s1_2=events("d2", threads))
        assert explain(compare(runs)).first_divergence.rule == "hash-order"
    # An unseeded draw that differs first is the better cause.
    unseeded = runs_for(s1_1=events("d", [1, 2], False, first="a"), s1_2=events("d", [1, 2], False, first="b"))
    assert explain(compare(unseeded)).first_divergence.rule == "unseeded-draw"


def test_a_draw_made_by_a_library_is_shown_at_the_library_line():
    caller = "keras/src/trainers/data_adapters/py_dataset_adapter.py:625"
    draw = ev("shuffle/random.shuffle@?#1", "ab", detail={"api": "random.shuffle", "caller": caller})
    (stage,) = compare(runs_for(s1_1=[draw], s1_2=[draw])).stages
    assert stage_label(stage) == ("shuffle", "random.shuffle")
    assert site_text(stage) == "keras: py_dataset_adapter.py:625"
    users = ev("shuffle/random.shuffle@sample_scripts/train.py:12#1", "ab", site="sample_scripts/train.py:12")
    (stage,) = compare(runs_for(s1_1=[users], s1_2=[users])).stages
    assert stage_label(stage) == ("shuffle", "random.shuffle") and site_text(stage) == "train.py:12"


def test_a_logged_value_alone_differing_is_not_op_nondeterminism():
    seeded = seed_call("keras.utils.set_random_seed", 1, 1)
    same = weights("weights/fit#1/epoch-1", ("dense/kernel", "e", [0.5]))

    def events(seconds: float) -> list[Event]:
        return [seeded, weights("weights/fit#1/init", ("dense/kernel", "k", [0.1])), ev("data/fit#1/epoch-1", "d"),
                same, ev("metrics/fit#1/epoch-1/epoch_time", seconds)]
    divergence = explain(compare(runs_for(s1_1=events(1.2), s1_2=events(1.3)))).first_divergence
    assert divergence.rule == "logged-value-only"
    assert "--ignore 'metrics/fit#1/epoch-*/epoch_time'" in divergence.fix


@pytest.mark.parametrize("key", ["metrics/fit#1/epoch-1/val_loss", "metrics/evaluate#1/accuracy"])
def test_an_evaluation_result_alone_differing_points_at_its_data(key):
    """Weights identical, a validation or evaluate result differs: the data it is computed on differ
    (an unseeded shuffle of the validation set changes a summed loss's last bits). Not to be ignored."""
    seeded = seed_call("numpy.random.seed", 1, 1)
    shuffle = ev("shuffle/tf.data.Dataset.shuffle@train.py:12#1", {"buffer": 64}, site="train.py:12",
                 detail={"api": "tf.data.Dataset.shuffle", "seed": None, "unseeded": True})

    def events(loss: float) -> list[Event]:
        return [seeded, shuffle, weights("weights/fit#1/init", ("dense/kernel", "k", [0.1])),
                ev("data/fit#1/epoch-1", "d"), weights("weights/fit#1/epoch-1", ("dense/kernel", "e", [0.5])),
                ev(key, loss)]
    divergence = explain(compare(runs_for(s1_1=events(0.5), s1_2=events(0.5000001)))).first_divergence
    assert divergence.rule == "evaluation-data" and key.rsplit("/", 1)[-1] in divergence.cause
    assert "Dataset.shuffle at train.py:12 has no seed" in divergence.cause and "--ignore" not in divergence.fix
    assert "no TensorFlow global seed is set" in divergence.cause
    # Seeded one line too late: said so, not "no global seed is set".
    late = seed_call("keras.utils.set_random_seed", 1, 1, site="train.py:13")

    def later(loss: float) -> list[Event]:
        return [*events(loss)[:2], late, *events(loss)[2:]]
    divergence = explain(compare(runs_for(s1_1=later(0.5), s1_2=later(0.5000001)))).first_divergence
    assert divergence.rule == "evaluation-data"
    assert ("no TensorFlow global seed was set when it was made (keras.utils.set_random_seed at train.py:13 "
            "comes after it)") in divergence.cause, divergence.cause


def test_a_validation_value_that_differs_before_the_weights_do_points_at_its_data():
    """A callback logs val_boot_acc from an unseeded random.Random() and ReduceLROnPlateau watches
    it: the value differs at epoch 1, the weights from epoch 2 on. The op-nondeterminism hint (and
    its enable_op_determinism fix) was wrong; the evaluation data is the cause."""
    seeded = seed_call("keras.utils.set_random_seed", 1, 1)

    def events(value: float, later: str) -> list[Event]:
        return [seeded, weights("weights/fit#1/init", ("k", "k0", [0.1])), ev("data/fit#1/epoch-1", "d"),
                weights("weights/fit#1/epoch-1", ("k", "k1", [0.2])), ev("metrics/fit#1/epoch-1/val_boot_acc", value),
                ev("data/fit#1/epoch-2", "d"), weights("weights/fit#1/epoch-2", ("k", later, [0.3]))]
    divergence = explain(compare(runs_for(s1_1=events(0.85, "a"), s1_2=events(0.9, "b")))).first_divergence
    assert divergence.rule == "evaluation-data", divergence.cause
    assert "up to it is identical" in divergence.cause and "weights fit#1 epoch 2" in divergence.cause
    assert "ReduceLROnPlateau" in divergence.cause and "enable_op_determinism" not in divergence.fix
    # Weights apart before the value: it may follow from them; no evaluation-data hint.
    before = explain(compare(runs_for(s1_1=[*events(0.85, "a")[:3], weights("weights/fit#1/epoch-1", ("k", "x", [0.2])),
                                            ev("metrics/fit#1/epoch-1/val_boot_acc", 0.85)],
                                      s1_2=events(0.9, "b")[:5]))).first_divergence
    assert before.stage.key == "weights/fit#1/epoch-1" and before.rule != "evaluation-data"
    # A short custom loop records no weights between training and evaluate: nothing says the training
    # agreed, so the evaluation data are not blamed (the final weights differ after it).
    def loop(value: float, final: str) -> list[Event]:
        return [seeded, weights("weights/fit#1/init", ("k", "k0", [0.1])), ev("metrics/evaluate#1/loss", value),
                weights("weights/final/model", ("k", final, [0.3]))]
    short = explain(compare(runs_for(s1_1=loop(0.5, "a"), s1_2=loop(0.6, "b")))).first_divergence
    assert short.rule != "evaluation-data", short.cause
    # Trained by fit, then by steps no snapshot saw, then evaluated: no callback carried anything.
    def tuned(value: float, final: str) -> list[Event]:
        return [*events(0.85, "e2")[:4], ev("metrics/evaluate#1/loss", value), weights("weights/final/model", ("k", final, [0.3]))]
    assert explain(compare(runs_for(s1_1=tuned(0.5, "a"), s1_2=tuned(0.6, "b")))).first_divergence.rule != "evaluation-data"
    # Evaluated only, nothing trained, every weight agreeing: the evaluation data (as before).
    only = [seeded, weights("weights/fit#1/init", ("k", "k0", [0.1]))]
    scored = explain(compare(runs_for(s1_1=[*only, ev("metrics/evaluate#1/loss", 0.5)],
                                      s1_2=[*only, ev("metrics/evaluate#1/loss", 0.6)]))).first_divergence
    assert scored.rule == "evaluation-data" and "every weight checkpoint is identical" in scored.cause


def test_without_a_data_stage_an_unseeded_shuffle_still_explains_diverging_weights():
    """A dataset read inside a tf.function leaves no data stage; its unseeded shuffle is the cause,
    and the training rule must not claim the data order was identical."""
    seeded = seed_call("random.seed", 1, 1)
    init = ev("init/dense/kernel#1", "k", detail={"name": "dense/kernel", "fp": "k", "sample": [0.1]})
    shuffle = ev("shuffle/tf.data.Dataset.shuffle@train.py:9#1", {"buffer": 64}, site="train.py:9",
                 detail={"api": "tf.data.Dataset.shuffle", "seed": None, "unseeded": True})

    tf_seeded = seed_call("tf.random.set_seed", 1, 1)

    def events(fp: str, with_shuffle: bool = True) -> list[Event]:
        return [seeded, *([shuffle] if with_shuffle else [tf_seeded]), init,
                weights("weights/final/sequential#1", ("dense/kernel", fp, [0.2 if fp == "a" else 0.3]))]
    divergence = explain(compare(runs_for(s1_1=events("a"), s1_2=events("b")))).first_divergence
    assert divergence.rule == "unseeded-dataset-shuffle" and "train.py:9" in divergence.cause
    plain = explain(compare(runs_for(s1_1=events("a", False), s1_2=events("b", False)))).first_divergence
    assert plain.rule == "training-nondeterminism"
    assert "data order was not recorded" in plain.cause and "data order are identical" not in plain.cause


def test_an_artifact_a_crashed_run_did_not_write_still_shows_the_others_divergence():
    crashed = run("s1#1", 1, [artifact("m.bin", None)], status="failed")
    apart = explain(compare([crashed, run("s1#2", 1, [artifact("m.bin", "aa")]), run("s1#3", 1, [artifact("m.bin", "bb")])]))
    assert stage(apart, "output/m.bin").verdict == C.DIVERGED
    assert apart.first_divergence is not None and apart.first_divergence.stage.key == "output/m.bin"
    alike = compare([crashed, run("s1#2", 1, [artifact("m.bin", "aa")]), run("s1#3", 1, [artifact("m.bin", "aa")])])
    assert stage(alike, "output/m.bin").verdict == C.MISSING  # absent from the crashed run, as its other stages
    assert alike.first_divergence is None and alike.exit_code == 3


def test_the_exit_code_of_a_crashed_run_is_not_the_first_divergence():
    """It differs because the run failed (exit 3 says so): no divergence, so no seeding hint."""
    crashed = run("s1#2", 1, [ev("seed/random.seed#1", 1), ev("exit", 4)], status="failed")
    comparison = explain(compare([run("s1#1", 1, [ev("seed/random.seed#1", 1), ev("exit", 0)]), crashed]))
    assert stage(comparison, "exit").verdict == C.DIVERGED
    assert comparison.first_divergence is None and comparison.exit_code == 3


def test_a_variable_made_before_seeding_does_not_make_a_later_model_seeded_too_late():
    """A step counter created before the seeding call, then a model after it whose init diverges."""
    seeded = seed_call("keras.utils.set_random_seed", 1, 1, site="train.py:8")
    counter = ev("init/step#1", "c0", site="train.py:5", detail={"name": "step", "fp": "c0", "sample": [0.0]})

    def events(fp: str) -> list[Event]:
        return [counter, seeded, ev("init/dense/kernel#1", fp, site="train.py:12",
                                    detail={"name": "dense/kernel", "fp": fp, "sample": [0.1]})]
    divergence = explain(compare(runs_for(s1_1=events("k1"), s1_2=events("k2")))).first_divergence
    assert divergence.stage.key == "init/dense/kernel#1"
    assert divergence.rule != "seeded-too-late"


@pytest.mark.parametrize("how", ["close", "ignored"])
def test_a_metric_after_weights_that_differ_is_not_a_logged_value_only(how):
    """Weights within --rtol, or diverged and --ignore'd, are not identical: the metric may follow from them."""
    seeded = seed_call("keras.utils.set_random_seed", 1, 1)

    def events(fp: str, last: float, accuracy: float) -> list[Event]:
        return [seeded, weights("weights/fit#1/init", ("dense/kernel", "k", [0.1])), ev("data/fit#1/epoch-1", "d"),
                weights("weights/fit#1/epoch-1", ("dense/kernel", fp, [0.5, last])),
                ev("metrics/fit#1/epoch-1/accuracy", accuracy)]
    runs = runs_for(s1_1=events("a", 1.0, 0.60), s1_2=events("b", 1.0 + 1e-7, 0.61))
    options = {"tolerance": C.Tolerance(rtol=1e-5)} if how == "close" else {"ignore": ("weights/*",)}
    divergence = explain(compare(runs, **options)).first_divergence
    assert divergence.stage.key == "metrics/fit#1/epoch-1/accuracy"
    assert divergence.rule != "logged-value-only"
    assert "every weight checkpoint is identical" not in (divergence.cause or "")
    assert "--ignore" not in (divergence.fix or "")


def test_a_shuffle_seed_that_changes_between_runs_is_blamed_on_what_computed_it():
    """Keras's directory loaders called without seed= draw the shuffle's seed from numpy: the
    shuffle differs by its seed, and the hint names the loader's line and numpy."""
    seeded = seed_call("random.seed", 1, 1)

    def shuffle(seed: int | None, via: str | None = "keras/src/utils/image_dataset_utils.py:272") -> Event:
        config = {"buffer_size": 64, "seed": seed, "reshuffle_each_iteration": True, "global_seed": 1}
        return ev("shuffle/tf.data.Dataset.shuffle@train.py:7#1", config, site="train.py:7",
                  detail={"api": "tf.data.Dataset.shuffle", **config, "unseeded": False,
                          **({"via": via} if via else {})})

    divergence = explain(compare(runs_for(s1_1=[seeded, shuffle(5)], s1_2=[seeded, shuffle(9)]))).first_divergence
    assert divergence.rule == "varying-shuffle-seed"
    assert "train.py:7 (called by keras/src/utils/image_dataset_utils.py:272)" in divergence.cause
    assert "(5, 9)" in divergence.cause and "numpy's global RNG, which nothing seeds" in divergence.cause
    assert "seed=" in divergence.fix and "keras.utils.set_random_seed" in divergence.fix
    own = explain(compare(runs_for(s1_1=[seeded, shuffle(5, None)], s1_2=[seeded, shuffle(9, None)]))).first_divergence
    assert own.rule == "varying-shuffle-seed" and "numpy" not in own.cause and "called by" not in own.cause
    # timeseries_dataset_from_array is named for what it is (not as a directory loader).
    series = "keras/src/utils/timeseries_dataset_utils.py:303"
    windows = explain(compare(runs_for(s1_1=[seeded, shuffle(5, series)], s1_2=[seeded, shuffle(9, series)])))
    cause = windows.first_divergence.cause
    assert "timeseries_dataset_from_array" in cause and "start positions" in cause and "directory" not in cause, cause


def test_a_seed_computed_while_the_script_runs_is_named_as_such():
    """A seeding call whose seed differs from run to run: the clock or the process id, or a Keras
    utility that drew one (`via` names it)."""
    def seeding(value: int, via: str | None = None) -> Event:
        return ev("seed/random.seed#1", value, site="train.py:3",
                  detail={"api": "random.seed", "asked": value, "applied": value, **({"via": via} if via else {})})

    clock = explain(compare(runs_for(s1_1=[seeding(8118)], s1_2=[seeding(8119)]))).first_divergence
    assert clock.rule == "varying-seed" and "random.seed at train.py:3 is given a different seed" in clock.cause
    assert "(8118, 8119)" in clock.cause and "{seed}" in clock.fix and "$SEEDCHECK_SEED" in clock.fix
    via = "keras/src/utils/dataset_utils.py:140"
    keras = explain(compare(runs_for(s1_1=[seeding(5, via)], s1_2=[seeding(9, via)]))).first_divergence
    assert keras.rule == "varying-seed" and f"(called by {via})" in keras.cause
    assert "pass seed= to the Keras call at train.py:3" in keras.fix


def test_a_stage_only_a_newer_seedcheck_records_does_not_fail_an_older_baseline():
    """A baseline recorded before seedcheck recorded `evaluate` results (capture version 1) lacks
    those stages: not the script's doing, so they are compared where present, with a warning. The
    same absence between traces of one capture version is a different code path: missing."""
    base = run("base:s1#1", 1, [ev("weights/fit#1/init", "k")])
    base.baseline = True
    new = [run(f"s1#{i}", 1, [ev("weights/fit#1/init", "k"), ev("metrics/evaluate#1/loss", 0.5)]) for i in (1, 2)]
    for r in new:
        r.trace.header["capture"] = 2
    comparison = explain(compare([base, *new]))
    evaluated = stage(comparison, "metrics/evaluate#1/loss")
    assert evaluated.verdict == C.REPRODUCIBLE and evaluated.other_capture and comparison.exit_code == 0
    assert any("capture versions 1 and 2" in w for w in comparison.warnings)
    for r in new:
        r.trace.header["capture"] = 1
    assert stage(compare([base, *new]), "metrics/evaluate#1/loss").verdict == C.MISSING
    # A stage no capture version began or stopped recording is missing across versions too.
    base = run("base:s1#1", 1, [ev("weights/fit#1/init", "k"), ev("weights/fit#2/epoch-1", "w")])
    base.baseline = True
    for r in new:
        r.trace.header["capture"] = 2
    assert stage(compare([base, *new]), "weights/fit#2/epoch-1").verdict == C.MISSING
    # Capture 11 renamed one key (an unnamed bit generator's): a numpy draw a v11 run lacks is missing.
    base = run("base:s1#1", 1, [ev("rng/numpy.random.shuffle@train.py:4#1", "p"),
                                ev("rng/numpy.random.SeedSequence@train.py:5#1", "e")])
    base.baseline, base.trace.header["capture"] = True, 10
    new = [run(f"s1#{i}", 1, [ev("rng/numpy.random.bit_generator@train.py:5#1", "e")]) for i in (1, 2)]
    for r in new:
        r.trace.header["capture"] = 11
    comparison = compare([base, *new])
    assert stage(comparison, "rng/numpy.random.shuffle@train.py:4#1").verdict == C.MISSING
    assert stage(comparison, "rng/numpy.random.SeedSequence@train.py:5#1").other_capture


def test_step_snapshots_of_runs_taken_with_another_every_are_compared_where_present():
    """A baseline taken with the default snapshot interval (a step-100 snapshot, no loop-pass weights)
    against a run with --every 40 (step-40, step-80 and the pass's weights): seedcheck's own setting
    differs, not the script's code path. Traces that do not say their --every are no evidence."""
    default = [ev("data/loop@t.py:9/pass-1", "d"), weights("weights/step-100", ("k", "w", [1.0]))]
    every40 = [weights("weights/step-40", ("k", "a", [1.0])), weights("weights/step-80", ("k", "b", [1.0])),
               ev("data/loop@t.py:9/pass-1", "d"), weights("weights/loop@t.py:9/pass-1", ("k", "w", [1.0]))]
    base = run("base:s1#1", 1, default)
    base.baseline = True
    new = run("s1#1", 1, every40)
    base.trace.header["every"], new.trace.header["every"] = None, 40
    comparison = explain(compare([base, new]))
    assert comparison.exit_code == 0, [(s.key, s.verdict) for s in comparison.stages]
    assert stage(comparison, "weights/step-40").other_every and stage(comparison, "weights/step-100").other_every
    assert any("--every 40 and the default" in w for w in comparison.warnings)
    new.trace.header["every"] = None  # the same setting: a snapshot one run lacks is another code path
    assert stage(compare([base, new]), "weights/step-40").verdict == C.MISSING
    del base.trace.header["every"], new.trace.header["every"]
    assert stage(compare([base, new]), "weights/step-40").verdict == C.MISSING


def test_the_pipeline_a_data_stage_read_names_what_reorders_it():
    """The data stage carries the order-relevant parts of its tf.data pipeline: a map with
    deterministic=False, a parallel map drawing random values, the shuffles that feed it. The hint
    names the line; an unseeded shuffle that feeds other data (a validation set's) is not blamed."""
    seeded = seed_call("keras.utils.set_random_seed", 1, 1)
    val_shuffle = ev("shuffle/tf.data.Dataset.shuffle@train.py:14#1", {"buffer": 32}, site="train.py:14",
                     detail={"api": "tf.data.Dataset.shuffle", "seed": None, "unseeded": True})

    def rule(pipeline: dict) -> tuple[str | None, str, str]:
        def events(fp: str) -> list[Event]:
            return [seeded, val_shuffle, ev("data/fit#1/epoch-1", fp, detail={"batches": 4, "pipeline": pipeline})]
        divergence = explain(compare(runs_for(s1_1=events("d1"), s1_2=events("d2")))).first_divergence
        return divergence.rule, divergence.cause or "", divergence.fix or ""
    empty = {"shuffles": [], "nondeterministic": [], "parallel_random": []}
    name, cause, fix = rule({**empty, "nondeterministic": [{"op": "map", "site": "train.py:13"}]})
    assert name == "nondeterministic-pipeline" and "map at train.py:13" in cause and "deterministic=True" in fix
    name, cause, fix = rule({**empty, "nondeterministic": [{"op": "map", "site": "train.py:13", "by_options": True}]})
    assert name == "nondeterministic-pipeline" and "Options().deterministic = False turns off" in cause
    assert fix.startswith("drop Options().deterministic = False")
    _, _, fix = rule({**empty, "nondeterministic": [{"op": "map", "site": "train.py:13", "by_options": True}],
                      "options_site": "train.py:20"})
    assert "with_options (at train.py:20)" in fix
    name, cause, fix = rule({**empty, "parallel_random": [{"op": "map", "site": "train.py:20", "random": ["RandomUniform"]}]})
    assert name == "parallel-random-map" and "map at train.py:20 draws random values (RandomUniform)" in cause
    assert "stateless" in fix and "num_parallel_calls=None" in fix
    name, cause, _ = rule({**empty, "shuffles": [{"site": "train.py:12", "unseeded": True}]})
    assert name == "unseeded-dataset-shuffle" and "train.py:12" in cause
    # A pipeline whose walk shows no shuffle (one made inside an interleave's function is not seen):
    # an unseeded shuffle elsewhere is still the likely cause.
    name, cause, _ = rule(empty)
    assert name == "unseeded-dataset-shuffle" and "train.py:14" in cause


def test_an_unseeded_sample_from_datasets_is_named_with_the_shuffles_on_its_line():
    """sample_from_datasets' Dataset.random and the shuffles it mixes, all unseeded on one line:
    the hint names the mix and the shuffles, and its fix seeds them all (a seed= for the mix alone
    would leave the shuffles as they are)."""
    seeded = seed_call("keras.utils.set_random_seed", 1, 1)
    unseeded = {"seed": None, "unseeded": True}
    mix = [ev(f"shuffle/tf.data.Dataset.shuffle@train.py:9#{n}", {"buffer": 48}, site="train.py:9",
              detail={"api": "tf.data.Dataset.shuffle", **unseeded}) for n in (1, 2)]
    stream = ev("shuffle/tf.data.Dataset.random@train.py:9#1", {"seed": None}, site="train.py:9",
                detail={"api": "tf.data.Dataset.random", "called_by": "tf.data.Dataset.sample_from_datasets", **unseeded})
    pipeline = {"shuffles": [{"site": "train.py:9", "unseeded": True, "api": "tf.data.Dataset.sample_from_datasets"}],
                "nondeterministic": [], "parallel_random": []}

    def events(fp: str, with_shuffles: bool) -> list[Event]:
        return [*(mix if with_shuffles else []), stream, seeded,
                ev("data/fit#1/epoch-1", fp, detail={"batches": 4, "pipeline": pipeline})]
    # Seeded draws made in tf.data's threads (from_generator sources drawing from numpy) taking
    # turns in the order the mix asks: not the cause beside the unseeded mix.
    draw = {"api": "numpy.random.randint", "rng": "numpy", "seeded": True}
    threaded = [ev("rng/numpy.random.randint@train.py:5#1", "s", site="train.py:5", detail={**draw, "thread": 1}),
                ev("rng/numpy.random.randint@train.py:5#rest", "r", site="train.py:5", detail={**draw, "threads": [1, 2, 3]})]
    for with_shuffles, extra in ((True, []), (False, []), (False, threaded)):
        comparison = compare(runs_for(s1_1=events("d1", with_shuffles) + extra, s1_2=events("d2", with_shuffles) + extra))
        divergence = explain(comparison).first_divergence
        assert divergence.rule == "unseeded-dataset-shuffle"
        assert "Dataset.sample_from_datasets at train.py:9 draws which dataset each element comes from" in divergence.cause
        assert ("2 Dataset.shuffle calls on that line" in divergence.cause) is with_shuffles
        assert divergence.fix.endswith("to Dataset.sample_from_datasets and to each Dataset.shuffle." if with_shuffles
                                       else "to Dataset.sample_from_datasets.")
        assert stage(comparison, "shuffle/tf.data.Dataset.random@train.py:9#1").unseeded_call


# -- initial values no result carries ---------------------------------------------------------------

def _init(name: str, fp: str, uid: int = 1) -> Event:
    return ev(f"init/{name}#1", fp, site="train.py:9",
              detail={"name": name, "fp": fp, "norm": 1.0, "sample": [0.5], "uid": uid})


def _snapshot(key: str, name: str, fp: str, uid: int | None) -> Event:
    event = weights(key, (name, fp, [0.1]))
    if uid is not None:
        event.detail["variables"][0]["uid"] = uid
    return event


@pytest.mark.parametrize("later, uid, fails", [
    # Weights loaded over the fresh values (load_weights, a restored checkpoint): training agrees.
    ({"s1_1": "same", "s1_2": "same"}, 1, False),
    # The usual Keras 3 problem: the fresh values are trained on, so the weights differ too.
    ({"s1_1": "a", "s1_2": "b"}, 1, True),
    # No weights recorded after them: no evidence that they were replaced.
    (None, 1, True),
    # A later model of the same variable names (built alike, after clear_session), agreeing: the
    # first model was trained and dropped unrecorded, so its values may have reached a result.
    ({"s1_1": "same", "s1_2": "same"}, 2, True),
    # A trace without uids (an older seedcheck's): no evidence.
    ({"s1_1": "same", "s1_2": "same"}, None, True),
])
def test_initial_values_that_no_later_weight_carries_do_not_fail(later, uid, fails):
    per_run = {}
    for label, fp in (("s1_1", "9c1e"), ("s1_2", "77aa")):
        events = [_init("dense/kernel", fp)]
        if later is not None:
            events.append(_snapshot("weights/fit#1/init", "dense/kernel", later[label], uid))
        per_run[label] = events + [ev("exit", 0)]
    comparison = explain(compare(runs_for(**per_run)))
    init = stage(comparison, "init/dense/kernel#1")
    assert init.verdict == C.DIVERGED and init.fails is fails and init.superseded is not fails
    assert comparison.exit_code == (C.EXIT_DIVERGED if fails else C.EXIT_REPRODUCIBLE)
    if fails:
        assert comparison.first_divergence.stage.key == "init/dense/kernel#1"
    else:
        assert comparison.first_divergence is None
        assert any("dense/kernel" in w and "do not fail" in w for w in comparison.warnings)


def test_a_script_that_passes_seed_to_each_call_does_not_seed_nothing():
    """No global seeding call, but seed= on the shuffle and on one layer: the Dropout given none is
    named, with its line, instead of "the script seeds nothing"."""
    shuffle = {"api": "tf.data.Dataset.shuffle", "buffer_size": 64, "seed": 1, "reshuffle_each_iteration": True,
               "global_seed": None, "unseeded": False}

    def generator(seed_arg, drawn, n):
        detail = {"api": "keras.random.SeedGenerator", "name": f"seed_generator_{n}", "seed_arg": seed_arg,
                  "unseeded": seed_arg is None, "layer": "dropout (Dropout)" if seed_arg is None else "noise",
                  "made_at": "train.py:14" if seed_arg is None else "train.py:12"}
        return ev(f"rng/keras.random.SeedGenerator@train.py:20#{n}", drawn, kind="rng", site="train.py:20", detail=detail)

    per_run = {label: [ev("shuffle/tf.data.Dataset.shuffle@train.py:9#1", dict(shuffle), site="train.py:9", detail=shuffle),
                       generator(2, 2, 1), generator(None, drawn, 2), ev("exit", 0)]
               for label, drawn in (("s1_1", 161587639), ("s1_2", 591363395))}
    first = explain(compare(runs_for(**per_run))).first_divergence
    assert first.stage.key == "rng/keras.random.SeedGenerator@train.py:20#2"
    assert first.rule == "unseeded-draw"
    assert "dropout (Dropout) made at train.py:14" in first.cause and "pass seed= to dropout (Dropout)" in first.fix
    # Without the seeded calls, the script does seed nothing.
    bare = {label: [generator(None, drawn, 2), ev("exit", 0)] for label, drawn in (("s1_1", 1), ("s1_2", 2))}
    assert explain(compare(runs_for(**bare))).first_divergence.rule == "seeds-nothing"


def test_a_seed_a_library_passes_for_the_script_is_not_the_scripts_own():
    """A Keras loader given no seed= draws one and passes it to Dataset.shuffle itself (`via`): the
    script still seeds nothing."""
    shuffle = {"api": "tf.data.Dataset.shuffle", "seed": 5817, "global_seed": None, "unseeded": False,
               "via": "keras/src/utils/image_dataset_utils.py:493"}
    per_run = {label: [ev("shuffle/tf.data.Dataset.shuffle@train.py:9#1", {"seed": drawn}, site="train.py:9",
                          detail={**shuffle, "seed": drawn}), ev("exit", 0)]
               for label, drawn in (("s1_1", 5817), ("s1_2", 9122))}
    assert explain(compare(runs_for(**per_run))).first_divergence.rule == "seeds-nothing"


def test_runs_taken_with_other_options_are_explained_by_the_options():
    """A baseline trained to the end against a check with --max-steps 5: the data count differs
    (20 batches against 5) because of the option, not the script's data order (the hash-order hint
    it got before). Likewise a baseline with the override and a check with --no-override. A trace
    with no exit event (a crash) does not say its --max-steps: no evidence of another option."""
    seeded = seed_call("keras.utils.set_random_seed", 1, 1)
    full = [seeded, data("data/fit#1/epoch-1", 20, ["a", "b"]), ev("exit", 0, detail={})]
    stopped = [seeded, data("data/fit#1/epoch-1", 5, ["a", "b"]),
               ev("exit", 0, detail={"max_steps": 5, "steps": 5, "stopped": True})]
    base = run("base:s1#1", 1, full)
    base.baseline = True
    comparison = explain(compare([base, run("s1#1", 1, stopped)]))
    divergence = comparison.first_divergence
    assert comparison.exit_code == 1 and divergence.rule == "other-options", divergence.rule
    assert "--max-steps (not stopped in base:s1#1; stopped after 5 steps in s1#1)" in divergence.cause, divergence.cause
    assert any("not taken with the same options or script arguments: --max-steps" in w for w in comparison.warnings)

    assert explain(compare([base, run("s1#1", 1, full)])).first_divergence is None  # the same options
    crashed = explain(compare([run("s1#1", 1, full[:2]), run("s1#2", 1, stopped[:2] + [ev("exit", 0, detail={})])]))
    assert crashed.first_divergence.rule != "other-options" and not any("same options" in w for w in crashed.warnings)

    # --max-steps given to a run it stopped nothing in (no training): not another option, and runs
    # taken the same way that differ there too are not explained by the options.
    unstopped = [ev("rng/random.random@s.py:1#1", 0.1), ev("exit", 0, detail={"max_steps": 100, "steps": 0,
                                                                                "stopped": False})]
    drawn = explain(compare([run("s1#1", 1, [ev("rng/random.random@s.py:1#1", 0.2), ev("exit", 0, detail={})]),
                             run("s1#2", 1, unstopped)])).first_divergence
    assert drawn.rule != "other-options", drawn.cause
    mixed = explain(compare([base, run("s1#1", 1, stopped), run("s1#2", 1, [*stopped[:1], data("data/fit#1/epoch-1", 5, ["c"]),
                                                                            stopped[2]])])).first_divergence
    assert mixed.rule != "other-options", mixed.cause

    plain, no_override = run("base:s1#1", 1, [seed_call("random.seed", 7, 1)]), run("s1#1", 1, [seed_call("random.seed", 7, 7)])
    plain.baseline, no_override.trace.header["override"] = True, False
    plain.trace.header["override"] = True
    divergence = explain(compare([plain, no_override])).first_divergence
    assert divergence.rule == "other-options" and "--no-override (not given in base:s1#1; given in s1#1)" in divergence.cause


def test_other_options_in_one_seed_are_the_cause_though_another_seeds_runs_differ_from_it():
    """A reviewer's find: a baseline whose seed 1 was recorded with --max-steps 3 and seed 2
    without, held to a check of both seeds without it. Runs of seed 2 taken the same way as seed
    1's check differ from it by their seed, which vetoed the rule, and PYTHONHASHSEED was blamed."""
    def taken(name: str, seed: int, batches: int, first: str, stopped: bool) -> RunResult:
        exit_detail = {"max_steps": 3, "steps": 3, "stopped": True} if stopped else {}
        taken_run = run(name, seed, [seed_call("keras.utils.set_random_seed", 1, seed),
                                     data("data/fit#1/epoch-1", batches, [first]), ev("exit", 0, detail=exit_detail)])
        taken_run.baseline = name.startswith("base:")
        return taken_run

    runs = [taken("base:s1#1", 1, 3, "a", True), taken("base:s2#1", 2, 20, "b", False),
            taken("s1#1", 1, 20, "a", False), taken("s2#1", 2, 20, "b", False)]
    divergence = explain(compare(runs)).first_divergence
    assert divergence.rule == "other-options", divergence.cause
    assert "--max-steps (stopped after 3 steps in base:s1#1; not stopped in s1#1)" in divergence.cause, divergence.cause


def test_a_parallel_map_of_seeded_keras_layers_is_named_without_a_global_seed():
    """Keras random layers given seed= in a parallel map, nothing seeded globally: their stateless
    ops race on the layers' shared state (serially, the runs agree). The hint names the map, not
    the hash-order text; a stateful op with no TF seed would differ serially too, so it is not."""
    def first(random_ops: list[str]) -> str:
        pipeline = {"shuffles": [], "nondeterministic": [],
                    "parallel_random": [{"op": "map", "site": "aug.py:16", "random": random_ops}]}
        layer = ev("rng/keras.random.SeedGenerator@aug.py:9#1", 5, site="aug.py:9",
                   detail={"api": "keras.random.SeedGenerator", "seed_arg": 5})
        def events(fp: str) -> list[Event]:
            return [layer, ev("data/fit#1/epoch-1", fp, detail={"batches": 8, "pipeline": pipeline})]
        return explain(compare(runs_for(s1_1=events("d1"), s1_2=events("d2")))).first_divergence.rule
    assert first(["StatelessRandomGetKeyCounter", "StatelessRandomUniformV2"]) == "parallel-random-map"
    assert first(["RandomUniform"]) != "parallel-random-map"


def test_data_that_agreed_through_a_parallel_random_map_is_warned_about():
    """Runs side by side (--jobs 2) agreed through a parallel map of seeded Keras random layers, and 4
    serial runs did not: agreement there is the scheduler's luck, and the report says so."""
    pipeline = {"shuffles": [], "nondeterministic": [],
                "parallel_random": [{"op": "map", "site": "aug.py:16", "random": ["StatelessRandomUniformV2"]}]}
    same = [ev("data/fit#1/epoch-1", "d1", detail={"batches": 8, "pipeline": pipeline})]
    comparison = explain(compare(runs_for(s1_1=same, s1_2=same)))
    assert comparison.exit_code == 0
    (warning,) = [w for w in comparison.warnings if "map at aug.py:16" in w]
    assert "seed generator" in warning and "thread scheduling" in warning and "num_parallel_calls=None" in warning
    plain = [ev("data/fit#1/epoch-1", "d1", detail={"batches": 8, "pipeline": {**pipeline, "parallel_random": []}})]
    assert not [w for w in explain(compare(runs_for(s1_1=plain, s1_2=plain))).warnings if "thread scheduling" in w]
    # One run: nothing agreed, nothing to warn about.
    assert not [w for w in explain(compare(runs_for(s1_1=same))).warnings if "thread scheduling" in w]
    # Data that differed in another epoch: the hint speaks of the map, not a warning of luck.
    other = [*same, ev("data/fit#1/epoch-2", "e1", detail={"batches": 8, "pipeline": pipeline})]
    apart = [*same, ev("data/fit#1/epoch-2", "e2", detail={"batches": 8, "pipeline": pipeline})]
    diverged = explain(compare(runs_for(s1_1=other, s1_2=apart)))
    assert diverged.first_divergence.stage.key == "data/fit#1/epoch-2"
    assert not [w for w in diverged.warnings if "thread scheduling" in w]


def test_an_older_traces_absolute_call_site_is_read_as_the_newer_relative_one():
    """Capture 5 named a file outside the working directory by its absolute path; capture 6 names
    it from the script's directory or its sys.path entry. An older baseline is not failed for the
    renaming: its key is read as the newer key of the file its path ends with. Two files whose
    paths both fit leave the key as it is (no guess)."""
    def draw(path: str, value: float) -> Event:
        return ev(f"rng/random.random@{path}:5#1", value, site=f"{path}:5", detail={"api": "random.random"})
    base = run("base:s1#1", 1, [draw("/home/me/lib/noise.py", 0.5)])
    base.baseline, base.trace.header["capture"] = True, 5
    new = run("s1#1", 1, [draw("noise.py", 0.5)])
    new.trace.header["capture"] = 7
    comparison = compare([base, new])
    assert keys(comparison) == ["rng/random.random@noise.py:5#1"] and comparison.exit_code == 0
    assert base.trace.events[0].site == "noise.py:5"
    # Two newer keys whose paths the old one ends with: no guess, the rows stay apart.
    old = run("base:s1#1", 1, [draw("/home/me/a/noise.py", 0.5)])
    old.baseline, old.trace.header["capture"] = True, 5
    two = run("s1#1", 1, [draw("a/noise.py", 0.5), draw("noise.py", 0.5)])
    two.trace.header["capture"] = 7
    assert "rng/random.random@/home/me/a/noise.py:5#1" in keys(compare([old, two]))
    # Traces of one version are left as they are.
    same = run("s1#2", 1, [draw("/home/me/lib/noise.py", 0.5)])
    same.trace.header["capture"] = 5
    other = run("s1#1", 1, [draw("/home/me/lib/noise.py", 0.5)])
    other.trace.header["capture"] = 5
    assert keys(compare([other, same])) == ["rng/random.random@/home/me/lib/noise.py:5#1"]


@pytest.mark.parametrize("older_path, newer_path", [("model.py", "lib/model.py"), ("proj/train.py", "train.py")])
def test_an_older_traces_working_directory_relative_site_is_read_as_the_project_relative_one(older_path, newer_path):
    """Capture 6 named a file under the working directory from it (`model.py`, recorded in `lib/`;
    `proj/train.py`, recorded above the project); capture 7 from the project's root. An older
    baseline's key is read as the newer key one of whose paths ends with the other."""
    def draw(path: str) -> Event:
        return ev(f"rng/random.random@{path}:5#1", 0.5, site=f"{path}:5", detail={"api": "random.random"})
    base = run("base:s1#1", 1, [draw(older_path)])
    base.baseline, base.trace.header["capture"] = True, 6
    new = run("s1#1", 1, [draw(newer_path)])
    new.trace.header["capture"] = 7
    comparison = compare([base, new])
    assert keys(comparison) == [f"rng/random.random@{newer_path}:5#1"] and comparison.exit_code == 0
    # A newer trace that has the older key as it is keeps it: that is the file's key.
    both = run("s1#1", 1, [draw(newer_path), draw(older_path)])
    both.trace.header["capture"] = 7
    base = run("base:s1#1", 1, [draw(older_path)])
    base.baseline, base.trace.header["capture"] = True, 6
    assert base.trace.events[0].key in keys(compare([base, both])) and base.trace.events[0].site == f"{older_path}:5"


def test_an_older_key_is_not_renamed_onto_a_key_its_own_trace_holds():
    """noise.py and lib/noise.py both draw at line 5; the older baseline has both, the newer run only
    lib/noise.py. Renaming the older `noise.py` key onto `lib/noise.py` dropped the baseline's real
    lib/noise.py value and passed (a false pass): the missing draw must show."""
    def draw(path: str, value: float) -> Event:
        return ev(f"rng/random.random@{path}:5#1", value, site=f"{path}:5", detail={"api": "random.random"})
    base = run("base:s1#1", 1, [draw("noise.py", 0.1), draw("lib/noise.py", 0.2)])
    base.baseline, base.trace.header["capture"] = True, 6
    new = run("s1#1", 1, [draw("lib/noise.py", 0.2)])
    new.trace.header["capture"] = 7
    comparison = compare([base, new])
    assert comparison.exit_code == 1 and "rng/random.random@noise.py:5#1" in keys(comparison)


def test_a_stage_only_each_seeds_first_run_reached_is_blamed_on_what_it_left_behind():
    """Run 1 preprocessed (an unseeded permutation) and wrote a file; run 2 found it and skipped that
    code: a `missing` stage with no cause. Said when the runs that reached it came first in every
    seed; a later run reaching what the first did not is another story."""
    draw = ev("rng/numpy.random.permutation@prep.py:9#1", "p1", site="prep.py:9")
    rest = [ev("data/fit#1/epoch-1", "d1")]
    first = explain(compare(runs_for(s1_1=[draw, *rest], s1_2=rest, s1_3=rest))).first_divergence
    assert first.stage.verdict == C.MISSING and first.rule == "skipped-by-later-runs"
    assert "s1#2, s1#3" in first.cause and "$SEEDCHECK_RUN_DIR" in first.fix
    assert explain(compare(runs_for(s1_1=rest, s1_2=[draw, *rest]))).first_divergence.rule is None


def test_a_run_that_started_from_a_file_an_earlier_run_left_is_the_cause():
    """BackupAndRestore's backup, left by run 1, restored by run 2: the hook's note said so below the
    panel, and the panel had no cause."""
    note = ev("note/shared-file@train.py:17#1", "Model.load_weights(…) reads a file written since …", kind="note",
              site="train.py:17", detail={"warning": True, "path": "/tmp/backup/latest.weights.h5",
                                          "api": "Model.load_weights"})
    first = explain(compare(runs_for(s1_1=[weights("weights/fit#1/init", ("k", "a", [0.1]))],
                                     s1_2=[note, weights("weights/fit#1/init", ("k", "b", [0.2]))]))).first_divergence
    assert first.rule == "resumed-from-shared-file"
    assert "s1#2 read a file" in first.cause and "Model.load_weights('/tmp/backup/latest.weights.h5') at train.py:17" \
        in first.cause and "$SEEDCHECK_RUN_DIR" in first.fix
    # A file read after the stage that differs did not make it differ; the check's first run (its own
    # download of a pretrained file) resumed from nothing.
    after = explain(compare(runs_for(s1_1=[weights("weights/fit#1/init", ("k", "a", [0.1]))],
                                     s1_2=[weights("weights/fit#1/init", ("k", "b", [0.2])), note]))).first_divergence
    assert after.rule != "resumed-from-shared-file"
    own = explain(compare(runs_for(s1_1=[note, weights("weights/fit#1/init", ("k", "a", [0.1]))],
                                   s1_2=[weights("weights/fit#1/init", ("k", "b", [0.2]))]))).first_divergence
    assert own.rule != "resumed-from-shared-file"


def test_fit_stopped_at_other_epochs_is_named_as_such():
    """A callback stopping on a time budget: every common epoch agrees, one run trained longer."""
    def epochs(count: int) -> list[Event]:
        return [event for epoch in range(1, count + 1) for event in
                (ev(f"data/fit#1/epoch-{epoch}", "d"), weights(f"weights/fit#1/epoch-{epoch}", ("k", f"e{epoch}", [0.1])))]
    first = explain(compare(runs_for(s1_1=epochs(5), s1_2=epochs(6)))).first_divergence
    assert first.stage.key == "data/fit#1/epoch-6" and first.rule == "stopped-at-other-epochs"
    assert "fit trained longer in s1#2 than in s1#1" in first.cause and "time" in first.fix
    # The first run trained longest: a file it left may have shortened the others; said too.
    longest_first = explain(compare(runs_for(s1_1=epochs(6), s1_2=epochs(5)))).first_divergence
    assert longest_first.rule == "stopped-at-other-epochs" and "a file it left behind" in longest_first.cause
    # A baseline taken with other script arguments (--epochs 6 against 5): the options, not a callback.
    base, new = run("base:s1#1", 1, epochs(6)), run("s1#1", 1, epochs(5))
    base.baseline = True
    base.trace.header["command"], new.trace.header["command"] = ["train.py", "--epochs", "6"], ["train.py", "--epochs", "5"]
    other = explain(compare([base, new])).first_divergence
    assert other.rule == "other-options" and "the script's arguments ('--epochs 6' in base:s1#1; '--epochs 5' in s1#1)" \
        in other.cause, other.cause
    # Arguments spelled otherwise (or another machine's data path) do not explain a value that differs:
    # the data themselves may have changed, which recording the baseline again would hide.
    base = run("base:s1#1", 1, [ev("data/fit#1/epoch-1", "old data")])
    new = run("s1#1", 1, [ev("data/fit#1/epoch-1", "new data")])
    base.baseline = True
    base.trace.header["command"], new.trace.header["command"] = ["t.py", "--epochs=2"], ["t.py", "--epochs", "2"]
    assert explain(compare([base, new])).first_divergence.rule != "other-options"


@pytest.mark.parametrize("api, written", [("numpy.random.RandomState", "np.random.RandomState"),
                                          ("random.Random", "random.Random"),
                                          ("numpy.random.default_rng", "np.random.default_rng")])
def test_an_unseeded_rng_object_is_named_before_seeds_nothing(api, written):
    """A script that seeds nothing and makes an RNG object with no seed: seeding the global RNGs, which
    seeds-nothing advises, would not reach the object; the hint names the line that made it."""
    def made(state: str) -> list[Event]:
        return [ev(f"rng/{api}@prep.py:4#1", state, kind="rng", site="prep.py:4",
                   detail={"api": api, "unseeded": True}), ev("data/fit#1/epoch-1", state)]

    divergence = explain(compare(runs_for(s1_1=made("a"), s1_2=made("b")))).first_divergence
    assert divergence.rule == "unseeded-draw", divergence.cause
    assert divergence.cause.startswith(f"{written}() at prep.py:4 has no seed") and f"{written}(seed)" in divergence.fix
    # The script seeds nothing else either: that rule's fix comes too (the object's alone would not do).
    assert "seeds nothing else" in divergence.cause and "; and " in divergence.fix, divergence.fix
    seeded = [ev("seed/random.seed@prep.py:2#1", 1, site="prep.py:2", detail={"api": "random.seed", "applied": 1}),
              ev("seed/numpy.random.seed@prep.py:3#1", 1, site="prep.py:3", detail={"api": "numpy.random.seed", "applied": 1})]
    alone = explain(compare(runs_for(s1_1=seeded + made("a"), s1_2=seeded + made("b")))).first_divergence
    assert alone.rule == "unseeded-draw" and "seeds nothing else" not in alone.cause and alone.fix == f"pass a seed: {written}(seed)."


@pytest.mark.parametrize("read, how", [("__reduce_ex__", "copied or pickled"), ("get_state", "get_state()"),
                                       ("_bit_generator", "its _bit_generator")])
def test_an_unseeded_rng_object_copied_before_any_draw_says_so(read, how):
    """An unseeded RNG object recorded when the script took its state before drawing (a copy, a pickle,
    get_state): the copy draws in its place, so the hint says the state was taken, not drawn from."""
    def made(state: str) -> list[Event]:
        seeded = ev("seed/random.seed@prep.py:2#1", 1, site="prep.py:2", detail={"api": "random.seed", "applied": 1})
        return [seeded, ev("rng/numpy.random.RandomState@prep.py:4#1", state, kind="rng", site="prep.py:4",
                           detail={"api": "numpy.random.RandomState", "unseeded": True, "state_read": read})]

    divergence = explain(compare(runs_for(s1_1=made("a"), s1_2=made("b")))).first_divergence
    assert divergence.rule == "unseeded-draw" and divergence.fix == "pass a seed: np.random.RandomState(seed)."
    assert divergence.cause == ("np.random.RandomState() at prep.py:4 has no seed: it starts from fresh OS entropy, "
                                f"and the script took its state ({how}) before any draw from it: what a copy draws "
                                "differs from run to run.")


def test_a_draw_given_a_varying_seed_of_its_own_gets_varying_seed():
    """tf.random.categorical(seed=<from the clock>): the op seed differs from run to run (a probe saw
    no cause and no fix); a fixed op seed with differing values is left to the other rules."""
    def drawn(op_seed, value):
        return [ev("rng/tf.random.categorical@gen.py:51#1", value, kind="rng", site="gen.py:51",
                   detail={"api": "tf.random.categorical", "op_seed": op_seed, "global_seed": 1, "unseeded": False})]

    divergence = explain(compare(runs_for(s1_1=drawn(509863002, "a"), s1_2=drawn(509864113, "b")))).first_divergence
    assert divergence.rule == "varying-seed" and "(509863002, 509864113)" in divergence.cause
    fixed = explain(compare(runs_for(s1_1=drawn(5, "a"), s1_2=drawn(5, "b")))).first_divergence
    assert fixed.rule != "varying-seed"


# -- a baseline recorded before the code changed ----------------------------------------------------

def _exit(sources: dict[str, str]) -> Event:
    return ev("exit", 0, detail={"sources": sources})


def _dropout_events(first_line: int, sources: dict[str, str], kernel: str = "k") -> list[Event]:
    """A seeding call, an init value and two SeedGenerators whose sites start at `first_line`."""
    return [seed_call("keras.utils.set_random_seed", 1, 1, site=f"train.py:{first_line - 3}"),
            ev("init/dense/kernel#1", kernel, site=f"train.py:{first_line - 1}"),
            ev(f"rng/keras.random.SeedGenerator@train.py:{first_line}#1", "g1", site=f"train.py:{first_line}"),
            ev(f"rng/keras.random.SeedGenerator@train.py:{first_line + 2}#1", "g2", site=f"train.py:{first_line + 2}"),
            weights("weights/fit#1/epoch-1", ("dense/kernel", kernel + "1", [0.5])), _exit(sources)]


def _with_baseline(baseline_events: list[Event], checked_events: list[list[Event]]) -> list[RunResult]:
    base = run("base:s1#1", 1, baseline_events)
    base.baseline = True
    base.trace.header["started"] = "2026-11-01T10:00:00+00:00"
    checked = [run(f"s1#{i}", 1, events) for i, events in enumerate(checked_events, 1)]
    for r in checked:
        r.trace.header["started"] = "2026-11-28T10:00:00+00:00"
    return [base, *checked]


def test_a_line_added_above_the_draws_since_the_baseline_does_not_make_them_missing():
    # A reviewer's find: one comment line added to train.py made every keyed stage below it missing
    # against the baseline ("different code paths", exit 1).
    runs = _with_baseline(_dropout_events(20, {"train.py": "old"}),
                          [_dropout_events(21, {"train.py": "new"})] * 2)
    comparison = explain(compare(runs))
    assert comparison.verdict == "reproducible", [(s.key, s.verdict) for s in comparison.stages]
    assert "rng/keras.random.SeedGenerator@train.py:23#1" in keys(comparison)
    assert not any(key.endswith(":20#1") or key.endswith(":22#1") for key in keys(comparison))
    assert stage(comparison, "rng/keras.random.SeedGenerator@train.py:23#1").events["base:s1#1"].site == "train.py:23"
    assert any("train.py changed since base:s1#1" in w and "20→21, 22→23" in w for w in comparison.warnings)


def test_lines_are_not_realigned_between_runs_of_one_version_nor_when_the_calls_changed():
    # One version (the same digest): a draw on another line is another code path, not a move.
    same = _with_baseline(_dropout_events(20, {"train.py": "v"}), [_dropout_events(21, {"train.py": "v"})] * 2)
    assert stage(compare(same), "rng/keras.random.SeedGenerator@train.py:21#1").verdict == C.MISSING
    # Another version whose calls differ (a Dropout added): its stages stay missing.
    added = _dropout_events(21, {"train.py": "new"})
    added.insert(4, ev("rng/keras.random.SeedGenerator@train.py:25#1", "g3", site="train.py:25"))
    comparison = explain(compare(_with_baseline(_dropout_events(20, {"train.py": "old"}), [added, added])))
    assert comparison.first_divergence.stage.verdict == C.MISSING
    assert not any("changed since base" in w for w in comparison.warnings)
    divergence = comparison.first_divergence
    assert divergence.rule == "changed-since-baseline", divergence
    assert "train.py has changed (calls added, removed or reordered" in divergence.cause
    # A trace without digests (an older seedcheck) is compared as it is.
    old = _dropout_events(20, {})
    old[-1] = ev("exit", 0)
    assert stage(compare(_with_baseline(old, [_dropout_events(21, {"train.py": "new"})] * 2)),
                 "rng/keras.random.SeedGenerator@train.py:20#1").verdict == C.MISSING


def test_runs_that_reproduce_each_other_but_not_the_baseline_are_told_so():
    # A reviewer's find: the cause was training-nondeterminism, for runs that agree with each other.
    runs = _with_baseline(_dropout_events(20, {"train.py": "v"}), [_dropout_events(20, {"train.py": "v"}, "k2")] * 2)
    runs[0].trace_path = Path("ci/baseline/s1-1.jsonl")
    for r in runs:
        r.trace.header.update(target="train.py", command=["train.py", "--epochs", "2"])
    divergence = explain(compare(runs)).first_divergence
    assert divergence.stage.key == "init/dense/kernel#1"
    assert divergence.rule == "changed-since-baseline"
    assert "(s1#1, s1#2) reproduce each other here" in divergence.cause
    assert "no file the runs' call sites name changed" in divergence.cause
    assert "`seedcheck run train.py --seed 1 --repeats 1 --save ci/baseline --force -- --epochs 2`" in divergence.fix
    # With a changed file, it is named, with git diff.
    changed = _with_baseline(_dropout_events(20, {"train.py": "v"}),
                             [_dropout_events(20, {"train.py": "w"}, "k2")] * 2)
    divergence = explain(compare(changed)).first_divergence
    assert "train.py has changed" in divergence.cause and "git diff train.py" in divergence.fix
    # Other script arguments are named too (a reviewer's find: only a warning said so).
    for r in changed:
        r.trace.header.update(target="train.py", command=["train.py", *([] if r.baseline else ["--lr", "0.1"])])
    divergence = explain(compare(changed)).first_divergence
    assert "the script's arguments differ (none in base:s1#1; '--lr 0.1' in s1#1, s1#2)" \
        in divergence.cause, divergence.cause
    # One checked run and no changed file: nothing tells a change from nondeterminism.
    single = _with_baseline(_dropout_events(20, {"train.py": "v"}), [_dropout_events(20, {"train.py": "v"}, "k2")])
    assert explain(compare(single)).first_divergence.rule != "changed-since-baseline"
    # The check's own runs differ too: a rule about the script says why, not this one.
    split = _with_baseline(_dropout_events(20, {"train.py": "v"}),
                           [_dropout_events(20, {"train.py": "v"}, "k2"), _dropout_events(20, {"train.py": "v"}, "k3")])
    assert explain(compare(split)).first_divergence.rule != "changed-since-baseline"


def test_a_seeding_rule_explains_one_run_against_an_edited_baseline_before_the_edit_does():
    # A reviewer's find: classifier_tf_seed_only.py with a comment line added, --repeats 1 against
    # its baseline: the cause was "the file changed", not Keras 3's initializers.
    tf_only = seed_call("tf.random.set_seed", 1, 1)
    base = [ev("env", {"tf": "2.21.0"}), tf_only, ev("init/dense/kernel#1", "k1", site="train.py:9"),
            _exit({"train.py": "old"})]
    check = [ev("env", {"tf": "2.21.0"}), tf_only, ev("init/dense/kernel#1", "k2", site="train.py:9"),
             _exit({"train.py": "new"})]
    divergence = explain(compare(_with_baseline(base, [check]))).first_divergence
    assert divergence.rule == "keras3-initializers", divergence
    # Fully seeded, one run, a changed file: the change is named, and its limits.
    seeded = seed_call("keras.utils.set_random_seed", 1, 1)
    base[1] = check[1] = seeded
    divergence = explain(compare(_with_baseline(base, [check]))).first_divergence
    assert divergence.rule == "changed-since-baseline", divergence
    assert divergence.cause.startswith("s1#1 differs from the baseline's base:s1#1, and since the baseline was "
                                       "recorded: train.py has changed: that change is the likely cause")
    assert "--repeats 2 does" in divergence.cause


def test_what_changed_since_the_baseline_is_unknown_without_digests_and_a_rename_is_named():
    old = _dropout_events(20, {"train.py": "v"}, "k")
    old[-1] = ev("exit", 0)  # an older seedcheck: no digests
    runs = _with_baseline(old, [_dropout_events(20, {"train.py": "v"}, "k2")] * 2)
    cause = explain(compare(runs)).first_divergence.cause
    assert "whether the code changed is not known" in cause and "no file the runs' call sites name" not in cause
    renamed = _with_baseline(_dropout_events(20, {"train.py": "v", "_toyproblem.py": "t"}, "k"),
                             [_dropout_events(20, {"train.py": "v", "_toy.py": "t"}, "k2")] * 2)
    divergence = explain(compare(renamed)).first_divergence
    assert "_toyproblem.py (now _toy.py) has changed" in divergence.cause
    assert "git diff _toy.py" in divergence.fix


def test_the_command_that_records_a_baseline_again_runs_as_printed():
    # A reviewer's finds: `--seed None`; one seed of two (--force deleted the other's traces);
    # --max-steps and --every dropped; arguments with a space unquoted.
    from seedcheck.baseline import rerecord_command

    def baseline_run(name, seed, every=None, max_steps=None, override=True, args=("--out", "w 1.npz")):
        r = run(name, seed, [ev("exit", 0, detail={"max_steps": max_steps} if max_steps else {})])
        r.trace.header.update(target="train.py", command=["train.py", *args], every=every, override=override)
        return r

    runs = [baseline_run("s1#1", 1), baseline_run("s1#2", 1), baseline_run("s2#1", 2)]
    assert rerecord_command(runs, Path("ci/base")) == \
        "`seedcheck run train.py --seed 1 --seed 2 --repeats 2 --save ci/base --force -- --out 'w 1.npz'`"
    own = [baseline_run("own#1", None, every=5, max_steps=20, override=False, args=())]
    assert rerecord_command(own, Path("ci/base/own-1.jsonl")) == \
        "`seedcheck run train.py --repeats 1 --max-steps 20 --every 5 --no-override --save ci/base --force`, " \
        "then hold the check to ci/base"
    module = baseline_run("s1#1", 1, args=())
    module.trace.header.update(target="-m pkg.train", command=["-m", "pkg.train", "--epochs", "2"])
    assert rerecord_command([module], Path("b")) == \
        "`seedcheck run -m pkg.train --seed 1 --repeats 1 --save b --force -- --epochs 2`"
