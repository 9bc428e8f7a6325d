"""End to end with real TensorFlow: the CLI on the sample scripts, asserting verdicts, the first
divergence, the hint and the exit code each sample states at its top."""

from __future__ import annotations

import pytest

from conftest import seedcheck, seedcheck_json

pytestmark = pytest.mark.e2e


def verdicts(result, prefix: str) -> set[str]:
    return {s["verdict"] for s in result.stages(prefix)}


def test_tf_seed_only_classifier_diverges_at_init_with_keras3_hint(tmp_path):
    page = tmp_path / "report.html"
    result = seedcheck_json("run", "sample_scripts/classifier_tf_seed_only.py", "--jobs", "2", "--seed", "123",
                            "--repeats", "3", "--html", page, tmp_path=tmp_path)
    assert result.code == 1, result.stderr
    report = result.report
    assert report["verdict"] == "diverged"
    first = report["first_divergence"]
    assert first["key"] == "init/sequential/dense/kernel#1"
    assert first["site"] == "sample_scripts/_toyproblem.py:22"
    assert first["rule"] == "keras3-initializers"
    assert "keras.utils.set_random_seed" in first["fix"]
    assert "classifier_tf_seed_only.py:23" in first["cause"]
    # The seeding call is recorded where the script makes it.
    seed = result.stage("seed/tf.random.set_seed#1")
    assert seed["site"] == "sample_scripts/classifier_tf_seed_only.py:23" and seed["verdict"] == "reproducible"
    # Kernels diverge from creation on; zero biases and the TF-seeded batch order do not.
    assert verdicts(result, "weights/") == {"diverged"}
    assert len(set(result.stage("weights/fit#1/init")["values"].values())) == 3
    assert result.stage("init/sequential/dense/bias#1")["verdict"] == "reproducible"
    assert verdicts(result, "data/fit#1/") == {"reproducible"}
    assert len(result.stages("data/fit#1/")) == 3
    assert result.stage("metrics/fit#1/epoch-1/loss")["detail"]["max_delta"] > 0
    # The table a user reads says the same, with the growth: apart from the first variable created.
    assert "◀ first" in result.stdout and "Likely cause" in result.stdout
    assert "Divergence growth" in result.stdout and "apart from created" in result.stdout
    # So does the HTML report, with both plots, drawn from these runs.
    html = page.read_text()
    assert "Not reproducible" in html and 'id="first-divergence"' in html and "keras.utils.set_random_seed" in html
    assert html.count("<svg") == 2 and "apart from created" in html and html.count("◀ first") == 1
    assert ">loss<" not in html  # titles are drawn as paths: no font needed, so no text node either
    saved_again = seedcheck("report", tmp_path / "runs", "--html", tmp_path / "again.html")
    assert saved_again.code == 1 and (tmp_path / "again.html").read_text().count("<svg") == 2


def test_fully_seeded_classifier_is_reproducible_and_seed_sensitive(tmp_path):
    result = seedcheck_json("run", "sample_scripts/classifier_fully_seeded.py", "--jobs", "2", "--seed", "1",
                            "--seed", "2", "--repeats", "2", "--every", "25", "--html", tmp_path / "report.html",
                            tmp_path=tmp_path)
    assert result.code == 0, result.stdout + result.stderr
    html = (tmp_path / "report.html").read_text()
    assert "Reproducible" in html and html.count("identical at every checkpoint") == 2  # seeds 1 and 2
    assert 'id="first-divergence"' not in html and "Divergence growth" not in result.stdout
    assert result.report["verdict"] == "reproducible" and result.report["first_divergence"] is None
    assert verdicts(result, "") <= {"reproducible", "seed-insensitive"}
    weights = result.stages("weights/")
    # init, 3 epochs, final, and every 25 of the 60 optimizer steps (20 batches x 3 epochs)
    assert [s["key"] for s in weights] == ["weights/fit#1/init", "weights/fit#1/epoch-1", "weights/step-25",
                                           "weights/fit#1/epoch-2", "weights/step-50", "weights/fit#1/epoch-3",
                                           "weights/final/sequential#1"]
    for stage in weights:
        values = stage["values"]
        assert stage["verdict"] == "reproducible" and stage["detail"]["seed_sensitive"], stage["key"]
        assert values["s1#1"] == values["s1#2"] != values["s2#1"] == values["s2#2"]
    assert result.report["warnings"] == []


def test_hardcoded_seed_is_seed_insensitive_without_override(tmp_path):
    result = seedcheck_json("run", "sample_scripts/classifier_hardcoded_seed.py", "--jobs", "2", "--no-override",
                            "--seed", "1", "--seed", "2", "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 0, result.stderr
    assert verdicts(result, "weights/") == {"seed-insensitive"}
    assert len(result.report["warnings"]) == 1
    warning = result.report["warnings"][0]
    assert "ignores the seed" in warning and "tf.random.set_seed(42)" in warning


def test_hardcoded_seed_follows_seedcheck_seed_with_override(tmp_path):
    result = seedcheck_json("run", "sample_scripts/classifier_hardcoded_seed.py", "--jobs", "2", "--seed", "1",
                            "--seed", "2", "--repeats", "1", tmp_path=tmp_path)
    assert result.code == 0, result.stderr
    assert all(s["detail"]["seed_sensitive"] for s in result.stages("weights/"))
    seeds = result.stages("seed/")
    assert [s["key"] for s in seeds] == ["seed/random.seed#1", "seed/numpy.random.seed#1", "seed/tf.random.set_seed#1"]
    assert all(s["values"] == {"s1#1": 1, "s2#1": 2} for s in seeds)


def test_unseeded_script_and_the_force_seed_what_if(tmp_path):
    result = seedcheck_json("run", "sample_scripts/classifier_unseeded.py", "--jobs", "2", "--repeats", "2",
                            tmp_path=tmp_path)
    assert result.code == 1
    first = result.report["first_divergence"]
    assert first["kind"] == "init" and first["rule"] == "seeds-nothing"
    assert result.stages("seed/") == []
    forced = seedcheck_json("run", "sample_scripts/classifier_unseeded.py", "--jobs", "2", "--seed", "5",
                            "--force-seed", "--repeats", "2", tmp_path=tmp_path / "forced")
    assert forced.code == 0, forced.stdout
    assert forced.stage("seed/seedcheck --force-seed#1")["values"] == {"s5#1": 5, "s5#2": 5}
    # seedcheck's own seeding is that one row: not Keras's inner calls, shown at the script's import line.
    assert [s["key"] for s in forced.stages("seed/")] == ["seed/seedcheck --force-seed#1"]


def test_article_dense_init_diverges_outside_fit(tmp_path):
    result = seedcheck_json("run", "sample_scripts/article_dense_init.py", "--jobs", "2", "--repeats", "2",
                            tmp_path=tmp_path)
    assert result.code == 1
    first = result.report["first_divergence"]
    assert (first["key"], first["site"], first["rule"]) == (
        "init/dense/kernel#1", "sample_scripts/article_dense_init.py:17", "keras3-initializers")
    assert result.stage("init/dense/bias#1")["verdict"] == "reproducible"
    assert result.stages("weights/") == []  # no model, no fit: the init check is what sees it


def test_article_tf_shuffle_follows_the_global_seed(tmp_path):
    result = seedcheck_json("run", "sample_scripts/article_tf_shuffle.py", "--jobs", "2", "--seed", "3", "--seed", "4",
                            "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 0, result.stdout
    shuffles = result.stages("shuffle/tf.random.shuffle@")
    assert [s["site"] for s in shuffles] == ["sample_scripts/article_tf_shuffle.py:14",
                                             "sample_scripts/article_tf_shuffle.py:15"]
    for stage in shuffles:
        assert stage["verdict"] == "reproducible" and stage["detail"]["seed_sensitive"]


def test_article_dataset_shuffle_is_fixed_by_its_op_seed(tmp_path):
    result = seedcheck_json("run", "sample_scripts/article_dataset_shuffle.py", "--jobs", "2", "--repeats", "2",
                            tmp_path=tmp_path)
    assert result.code == 0, result.stdout
    (stage,) = result.stages("shuffle/tf.data.Dataset.shuffle@")
    assert stage["verdict"] == "reproducible"
    assert stage["values"]["own#1"] == {"buffer_size": 10, "seed": 101, "reshuffle_each_iteration": True,
                                        "global_seed": None}
    assert result.stages("seed/") == []
