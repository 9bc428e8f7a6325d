"""End to end with real TensorFlow: custom training loops, draws and shuffles with call sites,
and the hint each sample states at its top."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import REPO, seedcheck, seedcheck_json

from seedcheck.fingerprint import sample_indices
from seedcheck.trace import read_trace

pytestmark = pytest.mark.e2e
NO_HASHSEED = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}


def test_custom_loop_fully_seeded_is_reproducible_pass_by_pass(tmp_path):
    result = seedcheck_json("run", "sample_scripts/custom_loop.py", "--jobs", "2", "--seed", "4", "--repeats", "2",
                            "--every", "15", "--", "--seed", "{seed}", tmp_path=tmp_path)
    assert result.code == 0, result.stdout
    site = "sample_scripts/custom_loop.py:55"
    for stage in (f"data/loop@{site}/pass-1", f"weights/loop@{site}/pass-1",
                  f"data/loop@{site}/pass-2", f"weights/loop@{site}/pass-2",
                  "weights/step-15", "weights/step-30"):
        assert result.stage(stage)["verdict"] == "reproducible", stage
    assert result.stage(f"data/loop@{site}/pass-1")["values"] != result.stage(f"data/loop@{site}/pass-2")["values"]
    (generator,) = result.stages("rng/keras.random.SeedGenerator@")
    assert generator["verdict"] == "reproducible" and generator["site"] == "sample_scripts/custom_loop.py:38"  # made there


def test_custom_loop_with_unseeded_dropout_diverges_at_the_seed_generator(tmp_path):
    result = seedcheck_json("run", "sample_scripts/custom_loop.py", "--jobs", "2", "--seed", "4", "--repeats", "2",
                            "--", "--seeding", "initializers", "--seed", "{seed}", tmp_path=tmp_path)
    assert result.code == 1
    first = result.report["first_divergence"]
    assert first["key"].startswith("rng/keras.random.SeedGenerator@") and first["rule"] == "keras3-initializers"
    assert "Dropout" in first["cause"] and "seed=" in first["fix"]
    assert {s["verdict"] for s in result.stages("init/")} == {"reproducible"}
    assert {s["verdict"] for s in result.stages("data/")} == {"reproducible"}


def test_custom_tf_function_loop_final_weights_are_bitwise_identical_under_seedcheck(tmp_path):
    script = "sample_scripts/custom_loop.py"
    subprocess.run([sys.executable, script, "--seed", "9", "--save-weights", tmp_path / "plain.npz"], cwd=REPO,
                   check=True, capture_output=True, stdin=subprocess.DEVNULL)
    result = seedcheck("run", script, "--seed", "9", "--repeats", "1", "--every", "1", "--save", tmp_path / "runs",
                       "-q", "--", "--seed", "{seed}", "--save-weights", tmp_path / "hooked.npz")
    assert result.code == 0, result.stdout + result.stderr
    plain, hooked = np.load(tmp_path / "plain.npz"), np.load(tmp_path / "hooked.npz")
    assert len(plain.files) == 4
    for name in plain.files:
        assert plain[name].tobytes() == hooked[name].tobytes(), name
    steps = [json.loads(line) for line in (tmp_path / "runs" / "s9-1.jsonl").read_text().splitlines()
             if '"weights/step-' in line]
    assert len(steps) == 40  # --every 1: 20 batches x 2 epochs, one snapshot per optimizer step
    # Each snapshot (summarized in-graph) sees the weights after its step's update: the last one
    # holds exactly the final weights' values at the sampled positions, and their norm.
    last = steps[-1]["detail"]["variables"]
    weights = [plain[name] for name in plain.files]
    assert [v["shape"] for v in last] == [list(w.shape) for w in weights]
    for summary, array in zip(last, weights):
        flat = array.reshape(-1).astype(np.float64)
        assert summary["sample"] == flat[sample_indices(flat.size)].tolist()
        # In-graph norms of float32 weights are summed in float32 (ingraph.WeightLayout.summarize).
        assert summary["norm"] == pytest.approx(float(np.linalg.norm(flat)), rel=1e-6)
    assert steps[-2]["detail"]["variables"][0]["sample"] != last[0]["sample"]  # a step changes them


def test_loop_batch_fingerprints_match_the_general_way_for_every_kind_of_element(tmp_path):
    """The hook's fast per-batch path (tensor buffers, cached prefixes) must record what the general
    path would: numeric dtypes, 0-d elements, two batch shapes, and the kinds it hands over
    (strings, bfloat16, dicts). Its variable reads must equal `.numpy()` and be read-only."""
    result = seedcheck("run", "tests/scripts/batch_fingerprints.py", "--repeats", "1", "--save", tmp_path, "-q")
    assert result.code == 0, result.stdout + result.stderr
    printed = json.loads((tmp_path / "own-1.stdout.log").read_text())
    assert printed["reads"] == {"equal": True, "read_only": True}
    passes = [json.loads(line) for line in (tmp_path / "own-1.jsonl").read_text().splitlines()
              if line.startswith("{") and '"data/loop@' in line]
    assert [p["key"].rsplit("/", 1)[1] for p in passes] == [f"pass-{i}" for i in range(1, 7)]
    assert [p["value"] for p in passes] == list(printed["expected"].values())


def test_numpy_shuffle_before_seeding(tmp_path):
    result = seedcheck_json("run", "sample_scripts/numpy_shuffle_unseeded.py", "--jobs", "2", "--seed", "2",
                            "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 1
    first = result.report["first_divergence"]
    assert first["key"] == "shuffle/numpy.random.permutation@sample_scripts/numpy_shuffle_unseeded.py:25#1"
    assert first["rule"] == "unseeded-draw"
    assert "numpy_shuffle_unseeded.py:28" in first["cause"]  # where the seeding comes, too late
    assert {s["verdict"] for s in result.stages("init/")} == {"reproducible"}


def test_noise_from_unseeded_numpy_is_found_at_its_draw(tmp_path):
    """Not a shuffle: values drawn from numpy's global RNG (np.random.normal) while only Python's
    random and TensorFlow are seeded. The draw is named, not the data order it changes."""
    script = "sample_scripts/noise_augmentation_unseeded.py"
    result = seedcheck_json("run", script, "--jobs", "2", "--seed", "2", "--repeats", "2", "--", "--epochs", "2",
                            tmp_path=tmp_path)
    assert result.code == 1
    first = result.report["first_divergence"]
    assert first["key"] == f"rng/numpy.random.normal@{script}:39#1" and first["rule"] == "unseeded-draw"
    assert "numpy's global RNG, which nothing seeds" in first["cause"] and "np.random.seed" in first["fix"]
    assert {s["verdict"] for s in result.stages("init/")} == {"reproducible"}
    assert {s["verdict"] for s in result.stages("data/")} == {"diverged"}
    # Keras's own draws from Python's random (its default seeds) are not the script's: not recorded.
    assert not result.stages("rng/random.")


def test_unseeded_dataset_shuffle(tmp_path):
    result = seedcheck_json("run", "sample_scripts/tfdata_shuffle_unseeded.py", "--jobs", "2", "--seed", "2",
                            "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 1
    first = result.report["first_divergence"]
    assert (first["key"], first["rule"]) == ("data/fit#1/epoch-1", "unseeded-dataset-shuffle")
    assert "tfdata_shuffle_unseeded.py:27" in first["cause"]
    assert result.stage("weights/fit#1/init")["verdict"] == "reproducible"
    # The shuffle's own row: its call repeats, but a reader must not take it for reproducible.
    row = next(line for line in result.stdout.splitlines() if "tf.data.Dataset.shuffle" in line)
    assert "tfdata_shuffle_unseeded.py:27" in row and row.rstrip().endswith("same call, no seed")
    shuffle = result.stages("shuffle/tf.data.Dataset.shuffle@")[0]
    assert shuffle["verdict"] == "reproducible" and shuffle["detail"]["unseeded"] is True


def test_a_pass_left_with_break_is_recorded_as_partial(tmp_path):
    """`for batch in dataset.repeat(): ... break` never reaches StopIteration: the pass is recorded
    once its iterator is dropped, so the unseeded shuffle shows in the data, not only in the weights."""
    result = seedcheck_json("run", "tests/scripts/repeat_break.py", "--jobs", "2", "--seed", "1", "--repeats", "2",
                            tmp_path=tmp_path)
    assert result.code == 1, result.stdout
    data, second = result.stages("data/loop@")
    assert data["verdict"] == "diverged" and second["verdict"] == "reproducible"
    events = [json.loads(line) for line in (tmp_path / "runs" / "s1-1.jsonl").read_text().splitlines()[1:]]
    keys = [event["key"] for event in events]
    recorded = events[keys.index(data["key"])]
    assert recorded["detail"]["batches"] == 12 and recorded["detail"]["partial"] is True
    assert events[keys.index(second["key"])]["detail"]["batches"] == 3
    # The first pass is recorded when the next one starts (its iterator gone), before the draw in
    # the second loop's body; the second, still open when the script ends, at the exit.
    draw = next(index for index, key in enumerate(keys) if key.startswith("rng/tf.random.uniform"))
    assert keys.index(data["key"]) < draw < keys.index(second["key"])
    first = result.report["first_divergence"]
    assert (first["key"], first["rule"]) == (data["key"], "unseeded-dataset-shuffle")
    assert result.stage("init/sequential/dense/kernel#1")["verdict"] == "reproducible"


def test_hash_order_data_diverges_without_pythonhashseed_only(tmp_path):
    result = seedcheck_json("run", "sample_scripts/hash_order_data.py", "--jobs", "2", "--seed", "2", "--repeats", "2",
                            tmp_path=tmp_path, env=NO_HASHSEED, clear_env=True)
    assert result.code == 1
    first = result.report["first_divergence"]
    assert (first["key"], first["rule"]) == ("data/fit#1/epoch-1", "hash-order")
    assert "PYTHONHASHSEED" in first["fix"]
    fixed = seedcheck_json("run", "sample_scripts/hash_order_data.py", "--jobs", "2", "--seed", "2", "--repeats", "2",
                           tmp_path=tmp_path / "fixed", env={**NO_HASHSEED, "PYTHONHASHSEED": "0"})
    assert fixed.code == 0


def test_draws_are_capped_per_call_site(tmp_path):
    result = seedcheck_json("run", "tests/scripts/busy_draws.py", "--jobs", "2", "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 0
    shuffles = result.stages("shuffle/random.shuffle@tests/scripts/busy_draws.py:7")
    assert [s["key"].rsplit("#", 1)[1] for s in shuffles] == [*map(str, range(1, 9)), "rest"]
    assert all(s["verdict"] == "reproducible" for s in shuffles)


def test_artifacts_are_fingerprinted_per_seed_template(tmp_path):
    weights = str(tmp_path / "w_{seed}.npz")
    result = seedcheck_json("run", "sample_scripts/classifier_fully_seeded.py", "--seed", "1", "--repeats", "2",
                            "--artifact", weights, "--artifact", str(tmp_path / "never_written.bin"),
                            "--", "--epochs", "1", "--seed", "{seed}", "--save-weights", weights, tmp_path=tmp_path)
    assert result.code == 1, result.stdout  # the file no run wrote fails the check: a wrong path must not pass
    written = result.stage(f"output/{weights}")
    assert written["verdict"] == "reproducible" and isinstance(written["values"]["s1#1"], str)
    assert (tmp_path / "w_1.npz").exists()
    never = result.stage(f"output/{tmp_path / 'never_written.bin'}")
    assert never["values"] == {"s1#1": None, "s1#2": None} and never["verdict"] == "missing"
    assert result.report["first_divergence"]["rule"] == "artifact-not-written"


def test_every_way_of_calling_fit_is_instrumented_and_left_working(tmp_path):
    result = seedcheck_json("run", "tests/scripts/fit_variants.py", "--jobs", "2", "--repeats", "2", "--every", "3",
                            tmp_path=tmp_path)
    assert result.code == 0, result.stdout
    assert result.report["notes"] == []  # nothing seedcheck failed to record
    assert (tmp_path / "runs" / "own-1.stdout.log").read_text() == "history 1 ['loss', 'val_loss']\n"
    for fit in range(1, 7):
        assert result.stage(f"weights/fit#{fit}/epoch-1")["verdict"] == "reproducible"
        assert result.stage(f"data/fit#{fit}/epoch-1")["verdict"] == "reproducible"
    assert result.stage("data/fit#6/epoch-2")["detail"]["distinct_values"] == 1


def test_models_alike_in_size_and_name_keep_their_order_in_the_final_weights(tmp_path):
    """Four fold models all called "net": their final weights are recorded in creation order, so a
    reproducible k-fold script is reproducible (it was DIVERGED when the order followed addresses)."""
    result = seedcheck_json("run", "tests/scripts/same_name_models.py", "--jobs", "2", "--repeats", "3",
                            tmp_path=tmp_path)
    assert result.code == 0, result.stdout
    finals = result.stages("weights/final/net")
    assert len(finals) == 4 and all(stage["verdict"] == "reproducible" for stage in finals)
    epochs = [result.stage(f"weights/fit#{fit}/epoch-1")["values"]["own#1"] for fit in range(1, 5)]
    assert [stage["values"]["own#1"] for stage in finals] == epochs  # fold 1 first, as made
    # The script's own evaluate calls: their results, at its line, as evaluate returned them.
    evaluated = [result.stage(f"metrics/evaluate#{n}/loss") for n in range(1, 5)]
    assert {(s["verdict"], s["site"]) for s in evaluated} == {("reproducible", "tests/scripts/same_name_models.py:18")}
    printed = json.loads((tmp_path / "runs" / "own-1.stdout.log").read_text())
    assert printed == [s["values"]["own#1"] for s in evaluated]


@pytest.mark.long
def test_pydataset_read_by_worker_threads_diverges_in_its_data_and_the_hint_says_why(tmp_path):
    result = seedcheck_json("run", "sample_scripts/pydataset_workers.py", "--jobs", "2", "--seed", "1", "--repeats", "2",
                            tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    first = result.report["first_divergence"]
    assert (first["key"], first["rule"]) == ("data/fit#1/epoch-1", "parallel-loader")
    assert "workers=2" in first["cause"] and "default_rng([seed, index])" in first["fix"]
    assert {s["verdict"] for s in result.stages("init/")} == {"reproducible"}
    # Keras shuffles the batch order itself: the draw is shown at Keras's line, not as "?".
    assert result.stage("shuffle/random.shuffle@?#1")["verdict"] == "reproducible"
    trace = next((tmp_path / "runs").glob("*.jsonl")).read_text().splitlines()
    draw = next(json.loads(line) for line in trace if '"shuffle/random.shuffle@?#1"' in line)
    assert draw["site"] is None and draw["detail"]["caller"].startswith("keras/src/trainers/data_adapters/")
    assert "keras: py_dataset_adapter.py:" in result.stdout
    # The fix the hint gives: each batch's noise drawn from a generator seeded by its index.
    fixed = seedcheck_json("run", "sample_scripts/pydataset_workers.py", "--jobs", "2", "--seed", "1", "--repeats", "2",
                           "--", "--noise", "per-index", tmp_path=tmp_path / "fixed")
    assert fixed.code == 0, fixed.stdout + fixed.stderr


@pytest.mark.long
def test_numpy_draws_in_a_parallel_map_are_blamed_on_the_threads(tmp_path):
    result = seedcheck_json("run", "tests/scripts/threaded_draws.py", "--jobs", "2", "--repeats", "3",
                            tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    first = result.report["first_divergence"]
    assert first["rule"] == "threaded-draws" and "threaded_draws.py:18" in first["cause"]
    serial = seedcheck_json("run", "tests/scripts/threaded_draws.py", "--jobs", "2", "--repeats", "2",
                            "--", "--parallel", "0", tmp_path=tmp_path / "serial")
    assert serial.code == 0, serial.stdout + serial.stderr


def test_random_generators_seeded_and_from_entropy(tmp_path):
    result = seedcheck_json("run", "tests/scripts/generators.py", "--jobs", "2", "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 1
    site = "tests/scripts/generators.py"
    assert result.stage(f"rng/tf.random.Generator.from_seed@{site}:7#1")["verdict"] == "reproducible"
    assert result.stage(f"rng/tf.random.Generator.normal@{site}:8#1")["verdict"] == "reproducible"
    first = result.report["first_divergence"]
    assert first["key"] == f"rng/tf.random.Generator.from_non_deterministic_state@{site}:9#1"
    assert first["rule"] == "unseeded-draw" and "from_seed" in first["fix"] and "reset_from_seed" in first["fix"]
    assert result.stage(f"rng/numpy.random.default_rng@{site}:13#1")["verdict"] == "diverged"
    # Seeded by reset_from_seed before its first draw, the global generator's OS-entropy state reaches nothing.
    reset = seedcheck_json("run", "tests/scripts/generators.py", "--jobs", "2", "--repeats", "2", "--", "--reset",
                           tmp_path=tmp_path / "reset")
    made = reset.stage(f"rng/tf.random.Generator.from_non_deterministic_state@{site}:9#1")
    assert made["verdict"] == "reproducible"
    assert reset.stage(f"rng/tf.random.Generator.uniform@{site}:12#1")["verdict"] == "reproducible"
    assert reset.report["first_divergence"]["key"] == f"rng/numpy.random.default_rng@{site}:13#1"


def test_a_keras_loader_without_seed_is_named_with_the_shuffle_it_seeds(tmp_path):
    script = "tests/scripts/text_loader.py"
    result = seedcheck_json("run", script, "--jobs", "2", "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    first = result.report["first_divergence"]
    assert first["key"] == f"shuffle/tf.data.Dataset.shuffle@{script}:26#1" and first["rule"] == "varying-shuffle-seed"
    assert "called by keras/src/utils/text_dataset_utils.py:" in first["cause"]
    assert "numpy's global RNG, which nothing seeds" in first["cause"]
    # tempfile's own Random and Keras's draw of the seed are the libraries', not the script's.
    assert not result.stages("rng/")
    split = seedcheck_json("run", script, "--jobs", "2", "--repeats", "2", "--", "--split", tmp_path=tmp_path / "split")
    first = split.report["first_divergence"]
    assert first["key"] == "seed/random.seed#1" and first["rule"] == "varying-seed"
    assert f"random.seed at {script}:17 (called by keras/src/utils/dataset_utils.py:" in first["cause"]
    assert f"pass seed= to the Keras call at {script}:17" in first["fix"]


def test_a_split_a_library_draws_from_unseeded_numpy_is_named(tmp_path):
    """A scikit-learn-style train_test_split draws from numpy's global RNG object, which no hook
    sees: the data differ with nothing recorded before them, and the hint names numpy, unseeded."""
    script = "tests/scripts/library_split.py"
    result = seedcheck_json("run", script, "--jobs", "2", "--repeats", "2", tmp_path=tmp_path)
    first = result.report["first_divergence"]
    assert result.code == 1 and (first["key"], first["rule"]) == (f"data/loop@{script}:26/pass-1", "numpy-not-seeded")
    assert f"random.seed at {script}:21" in first["cause"]


@pytest.mark.long
def test_a_model_built_inside_fit_has_its_initial_values_recorded(tmp_path):
    """A Sequential with no Input is built while fit's first step is traced: its variables have
    no value when they are made. Their initial values are read once TF has initialized them, before
    the step: the same values as when the model is built beforehand, and the Keras 3 hint."""
    script = "tests/scripts/lazy_build.py"
    result = seedcheck_json("run", script, "--jobs", "2", "--repeats", "2", "--", "--seeding", "tf", tmp_path=tmp_path)
    first = result.report["first_divergence"]
    assert result.code == 1 and first["key"] == "init/sequential/dense/kernel#1", result.stdout
    assert first["rule"] == "keras3-initializers" and first["site"] == f"{script}:27"
    assert result.stage("weights/fit#1/init")["verdict"] == "diverged"
    with ThreadPoolExecutor(2) as pool:  # two single runs at once, as --jobs 2 would
        lazy_run = pool.submit(seedcheck, "run", script, "--repeats", "1", "--save", tmp_path / "lazy")
        built_run = pool.submit(seedcheck, "run", script, "--repeats", "1", "--save", tmp_path / "built", "--", "--build")
        lazy, built = lazy_run.result(), built_run.result()
    assert lazy.code == built.code == 0, lazy.stdout + built.stdout
    same = seedcheck("compare", tmp_path / "lazy", tmp_path / "built", "--format", "json")
    stages = json.loads(same.stdout)["stages"]
    assert same.code == 0 and len([s for s in stages if s["kind"] == "init"]) == 4, same.stdout
    # Seeded after the layers were made, before fit made the weights: the initializers drew first.
    late = seedcheck_json("run", script, "--jobs", "2", "--repeats", "2", "--", "--seeding", "late",
                          tmp_path=tmp_path / "late")
    first = late.report["first_divergence"]
    assert (first["key"], first["rule"]) == ("init/sequential/dense/kernel#1", "seeded-too-late"), late.stdout
    assert f"keras.utils.set_random_seed at {script}:23" in first["cause"]


# The three ways file_cache.py keeps its data in a file: the API a warning names, and its line.
FILE_CACHES = [("cache", "Dataset.cache", 25), ("snapshot", "Dataset.snapshot", 28), ("save", "tf.data.Dataset.load", 33)]


def test_a_file_cache_the_runs_share_is_a_warning(tmp_path):
    """Run 2 reads what run 1 kept in a file (a Dataset.cache file, a snapshot, a dataset saved
    once and loaded after): they agree, and the report says why that proves nothing (a snapshot
    and a saved dataset passed without a word). Under the run's own directory nothing is shared:
    no warning, and the unseeded augmentation shows. The three ways are three pipelines of one
    script, each read in a loop of its own, so that one check of each side covers all three (not
    one per way): each has its own warning, at its line, and its own data row."""
    script = "tests/scripts/file_cache.py"
    hows = ",".join(how for how, _, _ in FILE_CACHES)
    shared = seedcheck_json("run", script, "--repeats", "2", "--", str(tmp_path / "kept"), hows, tmp_path=tmp_path)
    assert shared.code == 0, shared.stdout
    for how, api, line in FILE_CACHES:
        said = [w for w in shared.report["warnings"] if api in w]
        assert len(said) == 1, (how, shared.report["warnings"])
        (warning,) = said
        assert f"{script}:{line}" in warning and "$SEEDCHECK_RUN_DIR" in warning, (how, warning)
        assert shared.stage(f"data/loop@{script}:{line}/pass-1")["verdict"] == "reproducible", how
    own = seedcheck_json("run", script, "--repeats", "2", "--jobs", "2", "--", "{run_dir}/kept", hows,
                         tmp_path=tmp_path / "own")
    assert own.code == 1, own.stdout
    for how, api, line in FILE_CACHES:
        assert not [w for w in own.report["warnings"] if api in w], (how, own.stdout)
        assert own.stage(f"data/loop@{script}:{line}/pass-1")["verdict"] == "diverged", (how, own.stdout)


def test_the_pipeline_a_training_reads_is_described_with_its_data(tmp_path):
    """What in a tf.data pipeline can reorder or redraw its elements, read off the dataset fit and a
    loop read, with the script's lines: the hints name them. A validation set's unseeded shuffle
    does not feed the training data, so it is not among its shuffles."""
    script = "tests/scripts/parallel_pipeline.py"
    result = seedcheck_json("run", script, "--repeats", "1", tmp_path=tmp_path)
    assert result.code == 0, result.stdout
    events = {e.key: e for e in read_trace(tmp_path / "runs" / "own-1.jsonl").events}
    assert events["data/fit#1/epoch-1"].detail["batches"] == 4  # not the failed fifth read
    fit = events["data/fit#1/epoch-1"].detail["pipeline"]
    assert fit == {"nondeterministic": [{"op": "map", "site": f"{script}:14"}], "parallel_random": [], "shuffles": []}
    assert events[f"shuffle/tf.data.Dataset.shuffle@{script}:11#1"].detail["unseeded"]  # the validation set's
    loop = events[f"data/loop@{script}:24/pass-1"].detail["pipeline"]
    assert {(p["op"], p["site"]) for p in loop["nondeterministic"]} == {("map", f"{script}:21"),
                                                                      ("interleave", f"{script}:20")}
    assert loop["parallel_random"] == [{"op": "map", "site": f"{script}:21", "random": ["RandomUniform"]}]
    assert loop["options_site"] == f"{script}:24"  # where with_options turned determinism off: the line to change


def test_a_map_that_draws_one_element_at_a_time_is_not_listed_as_drawing_in_parallel(tmp_path):
    """num_parallel_calls=1, or any map under enable_op_determinism(), draws in element order: the
    parallel-draws warning and hint were wrong there. The three maps are read in turn by one run
    (op determinism turned on before the last only), one pass each, in that order."""
    drawing = {"parallel": True, "one": False, "determinism": False}
    result = seedcheck_json("run", "tests/scripts/serial_draws.py", "--repeats", "1", "--", ",".join(drawing),
                            tmp_path=tmp_path)
    assert result.code == 0, result.stdout + result.stderr
    events = [e for e in read_trace(tmp_path / "runs" / "own-1.jsonl").events if e.key.startswith("data/loop@")]
    assert [e.key.rsplit("/", 1)[1] for e in events] == ["pass-1", "pass-2", "pass-3"], [e.key for e in events]
    for (how, expected), event in zip(drawing.items(), events):
        assert bool(event.detail["pipeline"]["parallel_random"]) is expected, (how, event.detail)


@pytest.mark.parametrize("load", ["file", "none"])
def test_initial_values_replaced_by_loaded_weights_do_not_fail_the_check(tmp_path, load):
    """Seeded with tf.random.set_seed only, so the layers' fresh values differ (Keras 3). Loaded
    over by load_weights, they reach no result: reproducible. Trained on: the Keras 3 hint."""
    result = seedcheck_json("run", "tests/scripts/finetune_loaded.py", "--jobs", "2", "--repeats", "2",
                            "--", "--load", load, tmp_path=tmp_path)
    kernels = [s for s in result.stages("init/") if "kernel" in s["key"]]
    assert kernels and all(s["verdict"] == "diverged" for s in kernels)
    if load == "file":
        assert result.code == 0, result.stdout + result.stderr
        assert all(s["fails"] is False and s["detail"]["superseded"] is True for s in kernels)
        assert result.stage("weights/fit#1/init")["verdict"] == "reproducible"
        assert "no later weight carries them" in " ".join(result.stdout.split())
    else:
        assert result.code == 1
        first = result.report["first_divergence"]
        assert first["key"] == "init/classifier/features/kernel#1" and first["rule"] == "keras3-initializers"


def test_an_iterator_held_since_an_earlier_phase_does_not_take_the_final_weights(tmp_path):
    """Two passes recorded at the exit, neither read to its end: phase 1's (seeded, idle since)
    gets its data row only; phase 2's (an unseeded shuffle) is the first divergence, and the hint
    names that shuffle, not "the script seeds nothing" (the script passes seed= to its calls)."""
    result = seedcheck_json("run", "tests/scripts/held_iterator.py", "--jobs", "2", "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    phase1, phase2 = result.stages("data/loop@")
    assert phase1["key"].startswith("data/loop@tests/scripts/held_iterator.py:32/")
    assert phase1["verdict"] == "reproducible" and phase2["verdict"] == "diverged"
    assert not result.stages("weights/loop@tests/scripts/held_iterator.py:32/")  # the final weights are not phase 1's
    first = result.report["first_divergence"]
    assert first["key"] == phase2["key"] and first["rule"] == "unseeded-dataset-shuffle"
    assert "held_iterator.py:18" in first["cause"]


@pytest.mark.parametrize("seeding", ["numpy", "tf"])
def test_variables_of_the_scripts_own_trained_in_a_short_loop_are_recorded_at_the_end(tmp_path, seeding):
    """40 steps, under the loop's snapshot interval, on tf.Variables no Keras model holds: before,
    nothing but the seeding calls was compared and a TensorFlow left unseeded passed."""
    result = seedcheck_json("run", "tests/scripts/raw_variables.py", "--jobs", "2", "--repeats", "2",
                            "--", "--seeding", seeding, tmp_path=tmp_path)
    final = result.stage("weights/final/trained-variables")
    if seeding == "tf":
        assert result.code == 0 and final["verdict"] == "reproducible", result.stdout + result.stderr
    else:
        assert result.code == 1 and final["verdict"] == "diverged", result.stdout + result.stderr
        first = result.report["first_divergence"]
        assert (first["key"], first["rule"]) == ("weights/final/trained-variables", "tf-not-seeded")
    assert not result.stages("weights/final/script-variables")  # the optimizer's: recorded once


def test_variables_of_the_scripts_own_updated_by_hand_are_recorded_at_the_end(tmp_path):
    """No optimizer: the step assigns to the variables itself. Before, no stage held them, and an
    unseeded TensorFlow passed on the seeding calls alone (exit 0). Made on the step's first call,
    they come from AutoGraph's rewrite of the script's line; as keras.Variables, their tf.Variables
    from Keras's code: the script's all the same. The three kinds are made side by side in one
    script (--every-kind, one check instead of one per kind), each named after its kind: every one
    of them is in the stage, and its values differ between the runs."""
    result = seedcheck_json("run", "tests/scripts/raw_variables.py", "--jobs", "2", "--repeats", "2",
                            "--", "--seeding", "numpy", "--by-hand", "--every-kind", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    first = result.report["first_divergence"]
    assert (first["key"], first["rule"]) == ("weights/final/script-variables", "tf-not-seeded")
    assert not result.stages("weights/final/trained-variables")
    recorded = [{v["name"]: v["fp"] for v in read_trace(tmp_path / "runs" / f"own-{run}.jsonl").find(
        "weights/final/script-variables").detail["variables"]} for run in (1, 2)]
    kinds = {"eager": ":0", "lazy": ":0", "keras": ""}  # a keras.Variable's name has no ":0"
    names = {f"{kind}_{part}{suffix}" for kind, suffix in kinds.items() for part in ("weight", "bias")}
    assert set(recorded[0]) == set(recorded[1]) == names, recorded
    assert [name for name in sorted(names) if recorded[0][name] == recorded[1][name]] == []


def test_files_listed_in_a_shuffled_order_are_named_at_list_files(tmp_path):
    script = "tests/scripts/listed_files.py"
    result = seedcheck_json("run", script, "--jobs", "2", "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    first = result.report["first_divergence"]
    assert first["key"].startswith("data/loop@") and first["rule"] == "unseeded-dataset-shuffle"
    assert f"Dataset.list_files at {script}:21" in first["cause"] and "shuffle=False" in first["fix"]
    assert seedcheck_json("run", script, "--jobs", "2", "--repeats", "2", "--", "--sorted",
                          tmp_path=tmp_path / "sorted").code == 0


@pytest.mark.long
def test_a_checkpoint_an_earlier_run_wrote_outside_the_run_directory_is_a_warning(tmp_path):
    """The second run resumes from the first one's checkpoint: said, with the line that restores it.
    What a run saves and reads back as it left it (--reload: its checkpoint, a .keras model) is its
    own, not a warning. The same script writing under {run_dir} restores nothing, and is
    reproducible without warning."""
    shared = seedcheck_json("run", "tests/scripts/resumes.py", "--repeats", "2", "--", "--ckpt", tmp_path / "shared",
                            "--reload", tmp_path=tmp_path)
    assert shared.code == 1, shared.stdout + shared.stderr
    warnings = [w for w in shared.report["warnings"] if "written since this check began" in w]
    assert len(warnings) == 1 and "tf.train.Checkpoint.restore" in warnings[0], warnings
    assert "resumes.py:25" in warnings[0]
    assert shared.report["first_divergence"]["rule"] == "resumed-from-shared-file", shared.report["first_divergence"]
    own = seedcheck_json("run", "tests/scripts/resumes.py", "--repeats", "2", "--", "--ckpt", "{run_dir}/ckpt",
                         tmp_path=tmp_path / "own")
    assert own.code == 0 and not [w for w in own.report["warnings"] if "Checkpoint" in w], own.stdout


def test_a_file_a_run_fetched_itself_is_not_another_runs(tmp_path):
    """A pretrained file the run downloads (a plain write no wrapper sees) and loads: it was written
    while the run ran, so it is its own, not an earlier run's state (the warning said so before).
    The next run finds it there before it started: that one is warned about."""
    result = seedcheck_json("run", "tests/scripts/downloads_weights.py", "--repeats", "2", "--",
                            tmp_path / "pretrained.weights.h5", tmp_path=tmp_path)
    assert result.code == 0, result.stdout + result.stderr
    warnings = [w for w in result.report["warnings"] if "written since this check began" in w]
    assert len(warnings) == 1, warnings
    notes = {run: [e for e in read_trace(tmp_path / "runs" / f"own-{run}.jsonl").events if e.kind == "note"]
             for run in (1, 2)}
    assert not notes[1] and len(notes[2]) == 1, notes


def test_the_data_predict_reads_is_its_own_stage_at_its_line(tmp_path):
    """Keras reads predict's batches eagerly and stops at the dataset's length: before, they made a
    partial `data/loop@<predict's line>` pass, recorded at the exit. An unseeded shuffle of the data
    to predict on is now found at `data/predict#1`, and the training loop's pass is left alone."""
    script = "tests/scripts/predict_data.py"
    result = seedcheck_json("run", script, "--jobs", "2", "--repeats", "2", "--", "--shuffle", "unseeded",
                            tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    (training,) = result.stages("data/loop@")
    assert training["key"] == f"data/loop@{script}:34/pass-1" and training["verdict"] == "reproducible"
    predicted = result.stage("data/predict#1")
    assert predicted["site"] == f"{script}:38" and predicted["verdict"] == "diverged"
    assert "partial" not in predicted.get("detail", {})
    assert not result.stages("weights/predict") and result.stage("weights/final/sequential#1")["verdict"] == "reproducible"
    first = result.report["first_divergence"]
    assert (first["key"], first["rule"]) == ("data/predict#1", "unseeded-dataset-shuffle")
    assert f"{script}:37" in first["cause"]
    assert "data     predict" in result.stdout or "data predict" in " ".join(result.stdout.split())


def test_an_unseeded_sample_from_datasets_is_named_as_the_cause(tmp_path):
    """sample_from_datasets built before the global seed, with no seed= of its own: its Dataset.random
    mixes the sources differently in each process. Before, the hint blamed hash order."""
    script = "tests/scripts/sampled_sources.py"
    result = seedcheck_json("run", script, "--jobs", "2", "--repeats", "2", "--", "--when", "before", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    stream = result.stage(f"shuffle/tf.data.Dataset.random@{script}:26#1")
    assert stream["verdict"] == "reproducible" and stream["detail"]["unseeded"] is True  # the call repeats, not its draws
    first = result.report["first_divergence"]
    assert (first["key"], first["rule"]) == ("data/fit#1/epoch-1", "unseeded-dataset-shuffle")
    assert f"Dataset.sample_from_datasets at {script}:26" in first["cause"]
    assert "tf.data.Dataset.random · sample_from_datasets" in result.stdout and "same call, no seed" in result.stdout


def test_fit_under_a_mirrored_strategy_keeps_working_and_its_data_is_recorded(tmp_path):
    result = seedcheck_json("run", "tests/scripts/mirrored_fit.py", "--jobs", "2", "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 0, result.stdout + result.stderr
    for epoch in (1, 2):
        assert result.stage(f"data/fit#1/epoch-{epoch}")["verdict"] == "reproducible"
    assert not result.stages("note/hook-error")


def test_variables_a_librarys_tf_function_makes_are_not_the_scripts(tmp_path):
    """AutoGraph rewrites a library's tf.function as it does the script's: the module the rewrite
    came from decides whose variable it makes on its first call."""
    package = tmp_path / "site-packages" / "scaler"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "import tensorflow as tf\n\nmade = []\n\n\n@tf.function\ndef scale(x):\n"
        "    if not made:\n        made.append(tf.Variable(2.0, name='library_scale'))\n    return x * made[0]\n")
    script = tmp_path / "train.py"
    script.write_text(
        "import tensorflow as tf\n\nfrom scaler import scale\n\nmine = []\n\n\n@tf.function\ndef step(x):\n"
        "    if not mine:\n        mine.append(tf.Variable(1.0, name='script_weight'))\n"
        "    mine[0].assign_add(scale(x))\n\n\nstep(tf.constant(1.0))\n")
    result = seedcheck("run", script, "--repeats", "1", "--save", tmp_path / "runs", "-q",
                       env={"PYTHONPATH": str(tmp_path / "site-packages")})
    assert result.code == 0, result.stdout + result.stderr
    held = read_trace(tmp_path / "runs" / "own-1.jsonl").find("weights/final/script-variables")
    assert held is not None and [v["name"] for v in held.detail["variables"]] == ["script_weight:0"]


@pytest.mark.long
def test_a_library_seeding_call_is_passed_through_not_overridden(tmp_path):
    """keras.utils.split_dataset reseeds Python's `random` itself. Overriding that call with the run's
    seed made an unseeded split look seeded (exit 0); given seed=42, it made the models after it
    follow --seed, where without seedcheck they start the same whatever the script's seed."""
    script = "tests/scripts/split_then_model.py"
    unseeded = seedcheck_json("run", script, "--seed", "123", "--jobs", "2", "--repeats", "2", tmp_path=tmp_path)
    assert unseeded.code == 1, unseeded.stdout + unseeded.stderr
    first = unseeded.report["first_divergence"]
    assert (first["key"], first["rule"]) == ("seed/random.seed#1", "varying-seed")
    assert "called by keras/src/utils/dataset_utils.py" in first["cause"] and "seed=" in first["fix"]
    fixed = seedcheck_json("run", script, "--seed", "1", "--seed", "2", "--jobs", "2", "--repeats", "1",
                           "--", "--seed", "7", "--split-seed", "42", tmp_path=tmp_path / "fixed")
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    assert fixed.stage("weights/fit#1/init")["verdict"] == "seed-insensitive"
    assert set(fixed.stage("seed/random.seed#1")["values"].values()) == {42}  # the split's, as asked
    assert set(fixed.stage("seed/keras.utils.set_random_seed#1")["values"].values()) == {1, 2}  # the script's
    assert any("random.seed(42)" in w and "called by keras/" in w and "reseeds with a fixed seed after them" in w
               for w in fixed.report["warnings"])


def test_every_seed_generator_of_one_line_is_a_row_of_its_own_in_its_place(tmp_path):
    """Ten Dropouts made on one line, the last two before anything seeds Python's `random`. Past
    eight at one line they were folded into a row written at the exit, which could not be the
    first divergence: the hint blamed training nondeterminism."""
    script = "tests/scripts/many_dropouts.py"
    result = seedcheck_json("run", script, "--jobs", "2", "--repeats", "2", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    generators = result.stages("rng/keras.random.SeedGenerator@")
    assert [s["key"].rsplit("#", 1)[1] for s in generators] == [str(n) for n in range(1, 11)]
    assert {s["site"] for s in generators} == {f"{script}:10"}
    assert [s["verdict"] for s in generators] == ["reproducible"] * 8 + ["diverged"] * 2
    first = result.report["first_divergence"]
    assert (first["key"], first["rule"]) == (f"rng/keras.random.SeedGenerator@{script}:10#9", "seeded-too-late")
    assert "dropout_8" in first["cause"]


def test_eager_stateless_draws_are_recorded_with_their_seed(tmp_path):
    """A stateless op is a pure function of its seed: recorded with it, so a seed computed as the
    script runs is the first divergence, at its line, with the seeds each run gave (a probe saw a
    clock-seeded sampler reported reproducible)."""
    script = "tests/scripts/stateless_clock.py"
    result = seedcheck_json("run", script, "--repeats", "2", "--jobs", "2", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    assert result.stage(f"rng/tf.random.stateless_normal@{script}:7#1")["verdict"] == "reproducible"
    first = result.report["first_divergence"]
    assert first["key"] == f"rng/tf.random.stateless_uniform@{script}:8#1" and first["rule"] == "varying-seed"
    assert "is given a different seed in each run" in first["cause"]


def test_keras_random_with_no_seed_inside_a_function_is_recorded_and_named(tmp_path):
    """Keras's global SeedGenerator made while a tf.function is traced: its state could not be read
    there, the row held nothing in every run and the check passed (a probe's false pass). Its seed
    is now caught as Keras draws it, and the hint names the keras.random call."""
    script = "tests/scripts/keras_random_in_function.py"
    result = seedcheck_json("run", script, "--repeats", "2", "--jobs", "2", tmp_path=tmp_path)
    assert result.code == 1, result.stdout + result.stderr
    first = result.report["first_divergence"]
    assert first["key"].startswith("rng/keras.random.SeedGenerator@") and first["rule"] == "keras3-initializers"
    assert first["site"] == f"{script}:25", first  # the call of the function (AutoGraph rewrote its body)
    assert "keras.random op called with no seed=" in first["cause"] and "not from tf.random.set_seed" in first["cause"]
    assert f"pass seed= to the keras.random calls made from {script}:25" in first["fix"]
    assert not [note for note in result.report.get("notes", []) if "seed-generator" in str(note)]
    seeded = seedcheck_json("run", script, "--repeats", "2", "--jobs", "2", "--", "--seeded", tmp_path=tmp_path / "seeded")
    assert seeded.code == 0, seeded.stdout + seeded.stderr


def test_a_file_a_parallel_run_wrote_over_this_runs_own_is_a_warning(tmp_path):
    """--jobs 2 and one checkpoint path for both runs: run 1 saved the file, run 2 saved over it while
    run 1 ran, run 1 loaded it. The file was last written after run 1 started, which made it run 1's
    own (no warning, a probe's crash said nothing of the shared path). A file this run wrote and finds
    changed is another run's, however recent."""
    work = tmp_path / "work"
    work.mkdir()
    script = REPO / "tests/scripts/parallel_checkpoint.py"
    result = seedcheck_json("run", script, "--repeats", "2", "--jobs", "2", tmp_path=tmp_path, cwd=work)
    warnings = [w for w in result.report["warnings"] if "written since this check began" in w]
    assert len(warnings) == 1 and "keras.models.load_model('shared.keras')" in warnings[0], \
        result.report["warnings"] + [result.stdout, result.stderr]


def test_a_random_op_traced_with_no_seed_is_a_warning(tmp_path):
    """Draws inside a tf.function are not recorded: one traced with no seed at all changed only what
    the script printed, and the check passed with nothing said (a probe's false pass). The op is
    named, at the script's line, once the function is traced; seeded, nothing is said. The warnings
    are read off one run's trace (that a report says each once for many runs, a file cache's test
    shows); the seeded check keeps two runs: its exit 0 says they agree."""
    script = "tests/scripts/graph_noise.py"
    result = seedcheck_json("run", script, "--repeats", "1", tmp_path=tmp_path)
    warnings = [w for w in result.report["warnings"] if "traced into a tf.function" in w]
    assert len(warnings) == 2, result.report["warnings"]
    assert f"RandomUniform op (random_uniform/RandomUniform) traced into a tf.function from {script}:19" in warnings[0]
    assert f"a LogUniformCandidateSampler op (LogUniformCandidateSampler) traced into a tf.function from {script}:24" \
        in warnings[1]  # any op with seed and seed2 attributes, not a list of names
    assert not [w for w in warnings if f"{script}:30" in w]  # XLA compiles it with a fixed seed: it repeats
    seeded = seedcheck_json("run", script, "--repeats", "2", "--jobs", "2", "--", "--seeded", tmp_path=tmp_path / "s")
    assert seeded.code == 0 and not [w for w in seeded.report["warnings"] if "tf.function" in w], seeded.stdout


def test_a_model_saved_twice_through_two_apis_is_the_runs_own(tmp_path):
    """Model.save, then keras.saving.save_model over it, then load_model: the run's own file. The
    second API was not wrapped, so the file looked written over by another run. (The file was
    under $SEEDCHECK_RUN_DIR, which is never checked, so this passed with the bug back in: a
    reviewer's find; it is now in a directory of the run's own outside it.)"""
    result = seedcheck_json("run", "tests/scripts/saves_twice.py", "--repeats", "2", "--jobs", "2", tmp_path=tmp_path)
    assert result.code == 0 and not [w for w in result.report["warnings"] if "written since" in w], result.stdout
