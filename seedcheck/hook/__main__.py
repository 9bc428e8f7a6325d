"""Child entry point: `python -m seedcheck.hook`, with the run's settings in $SEEDCHECK_HOOK.

Writes the trace header and the `env` event, installs the lazy patches, runs the user's script as
`__main__`, then records final weights and the `exit` event, and exits as the script would.
`--artifact` files are the runner's: it fingerprints them once this process has ended (see
seedcheck.artifacts).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable

from seedcheck import __version__
from seedcheck.hook import environment, script
from seedcheck.hook.patches import PostImportFinder, replace_everywhere
from seedcheck.hook.recorder import Recorder
from seedcheck.hook.pyrandom import RandomCapture
from seedcheck.hook.seeding import FORCE_SEED, KERAS_SEED, NUMPY_SEED, PYTHON_SEED, TF_SEED, SeedingOverride
from seedcheck.hook.settings import HookSettings
from seedcheck.hook.steps import MaxStepsReached, StepCapture, is_stop
from seedcheck.trace import TraceWriter


class Session:
    """Everything the hook does in one child process."""

    def __init__(self, settings: HookSettings) -> None:
        self.settings = settings
        self.started = time.time()  # a file written since is this run's own (its download), not an earlier run's
        self._hashseed_at_start = os.environ.get("PYTHONHASHSEED")
        header = {
            "seedcheck": __version__,
            "run": settings.run,
            "seed": settings.seed,
            "command": settings.command,
            "target": settings.script or f"-m {settings.module}",
            "override": settings.override,
            "force_seed": settings.force_seed,
            "every": settings.every,  # which step snapshots to expect (compare: another --every is no divergence)
            "started": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),  # no datetime import
        }
        site_root = settings.variation.get("site_root")
        script = os.path.abspath(settings.script) if settings.script else None
        # A directory with __main__.py runs from itself (python puts it first on sys.path).
        script_dir = (script if os.path.isdir(script) else os.path.dirname(script)) if script else None
        self.recorder = Recorder(TraceWriter(settings.trace, header), base_dir=site_root or os.getcwd(),
                                 mirror_root=settings.variation.get("mirror_root"), script_dir=script_dir)
        self.seeding = SeedingOverride(self.recorder, settings.seed, settings.override)
        self.finder = PostImportFinder(imported_without_gc=frozenset({"tensorflow", "keras"}))
        self.keras: Any = None
        self.tfrandom: Any = None
        self.steps = StepCapture(self.recorder, settings.every, settings.max_steps)
        self._tf_env_recorded = False
        self._numpy_state: Callable[[], str] | None = None
        self._numpy_initial: str | None = None  # numpy's global RNG state when numpy was imported
        self.children: Any = None
        self.files: Any = None  # hook/files.py, made when TensorFlow or Keras is imported
        self._ready: set[str] = set()
        self.interrupted = False  # the script ended on an uncaught KeyboardInterrupt

    # -- patches ---------------------------------------------------------------------------------
    def install(self) -> None:
        import random

        random.seed = self.seeding.wrap(PYTHON_SEED, random.seed, "a")  # type: ignore[assignment]
        self.draws = RandomCapture(self.recorder, self.seeding.is_seeded)
        self.recorder.guarded("random", lambda: self.draws.install_python(random))
        self.recorder.guarded("random", lambda: self.draws.install_python_objects(random))
        if self.settings.force_seed:
            self._force_seed_python(random)
        if self.settings.variation:
            from seedcheck.hook import variations

            self.recorder.guarded("variation", lambda: variations.apply_python(self.settings.variation))
        sys.meta_path.insert(0, self.finder)
        self.finder.when_imported("numpy.random", self._patch_numpy)
        self.finder.when_imported("tensorflow", self._patch_tensorflow)
        self.finder.when_imported("keras", self._patch_keras)
        self.finder.when_imported("subprocess", lambda m: self.recorder.guarded(
            "children", lambda: self._children().install_subprocess(m)))
        self.finder.when_imported("multiprocessing.process", lambda m: self.recorder.guarded(
            "children", lambda: self._children().install_multiprocessing(m)))

    def _shared_files(self) -> Any:
        if self.files is None:
            from seedcheck.hook.files import SharedFiles

            self.files = SharedFiles(self.recorder, self.settings.check_started, self.started)
        return self.files

    def _children(self) -> Any:
        if self.children is None:
            from seedcheck.hook.children import ChildProcesses

            self.children = ChildProcesses(self.recorder)
        return self.children

    def _patch_numpy(self, np_random: Any) -> None:
        from seedcheck.hook.pyrandom import numpy_state

        def note_initial_state() -> None:  # whether anything drew from it is told at the exit
            self._numpy_state = numpy_state(np_random)
            self._numpy_initial = self._numpy_state()

        self.recorder.guarded("numpy.random", note_initial_state)
        original = np_random.seed
        replace_everywhere(("numpy.random",), "seed", original, self.seeding.wrap(NUMPY_SEED, original, "seed"))
        self.recorder.guarded("numpy.random", lambda: self.draws.install_numpy(np_random))
        self.recorder.guarded("numpy.random", lambda: self.draws.install_numpy_generators(np_random))
        self.recorder.guarded("numpy.random", lambda: self.draws.install_numpy_random_state(np_random))
        self.recorder.guarded("numpy.random", lambda: self.draws.install_numpy_entropy(np_random))
        if self.settings.force_seed:
            original(self.settings.seed)

    def _patch_tensorflow(self, tf: Any) -> None:
        from seedcheck.hook.tfrandom import TFRandomCapture

        original = tf.random.set_seed
        replace_everywhere(("tensorflow",), "set_seed", original, self.seeding.wrap(TF_SEED, original, "seed"))
        self.tfrandom = TFRandomCapture(self.recorder)
        self.recorder.guarded("tf.random", lambda: self.tfrandom.install(tf))
        from seedcheck.hook.pipeline import PipelineSites

        pipeline = PipelineSites(self.recorder)
        self.recorder.guarded("data", lambda: pipeline.install(tf.data.Dataset))
        self.tfrandom.pipeline = pipeline
        self.recorder.guarded("files", lambda: self._shared_files().install_tensorflow(tf))
        from tensorflow.python.data.ops.iterator_ops import OwnedIterator

        self.recorder.guarded("data", lambda: self.steps.install_iterator(OwnedIterator))
        from tensorflow.python.eager.polymorphic_function.concrete_function import ConcreteFunction

        self.recorder.guarded("steps", lambda: self.steps.install_function_calls(ConcreteFunction))
        self.steps.on_first_call = self.tfrandom.note_unseeded_ops
        from tensorflow.python.ops.variables import VariableMetaclass

        self.recorder.guarded("weights", lambda: self.steps.install_variable_creation(VariableMetaclass))
        if self.settings.variation:
            from seedcheck.hook import variations

            self.recorder.guarded("variation", lambda: variations.apply_tensorflow(self.settings.variation, tf))
        self.recorder.guarded("tracebacks", script.hide_runner_from_tensorflow_stacks)
        from tensorflow.python.util import traceback_utils

        self.recorder.guarded("tracebacks", lambda: script.hide_wrappers_from_library_tracebacks(traceback_utils))
        self._ready.add("tensorflow")
        self._force_seed_frameworks()

    def _patch_keras(self, keras: Any) -> None:
        from seedcheck.hook.keras import KerasInstrumentation

        original = keras.utils.set_random_seed
        wrapper = self.seeding.wrap(KERAS_SEED, original, "seed")
        replace_everywhere(("keras",), "set_random_seed", original, wrapper)
        # tf.keras may load a separate API tree later; point it at the wrapper too.
        self.finder.when_imported("keras._tf_keras.keras.utils",
                                  lambda _m: replace_everywhere(("keras",), "set_random_seed", original, wrapper))
        from keras.src.optimizers.base_optimizer import BaseOptimizer

        self.keras = KerasInstrumentation(self.recorder, self.steps, lambda: self.seeding.is_seeded("python"))
        self.keras.install(keras)
        self.recorder.guarded("files", lambda: self._shared_files().install_keras(keras))
        if "tensorflow" in sys.modules:
            from tensorflow.python.eager.polymorphic_function.polymorphic_function import Function

            self.recorder.guarded("init", lambda: self.keras.install_lifted_initialization(Function))  # type: ignore[union-attr]
        self.recorder.guarded("steps", lambda: self.steps.install(BaseOptimizer))
        self.keras.on_first_fit.append(self._record_tf_env)
        from keras.src.utils import traceback_utils

        self.recorder.guarded("tracebacks", lambda: script.hide_wrappers_from_library_tracebacks(traceback_utils))
        self._ready.add("keras")
        self._force_seed_frameworks()

    # -- --force-seed ----------------------------------------------------------------------------
    def _force_seed_python(self, random: Any) -> None:
        self.recorder.record("seed", self.recorder.next_key(f"seed/{FORCE_SEED}"), self.settings.seed,
                             detail={"api": FORCE_SEED, "asked": None, "applied": self.settings.seed,
                                     "overridden": True})
        self.seeding.mark_seeded(FORCE_SEED)
        random.seed.__seedcheck_original__(self.settings.seed)

    def _force_seed_frameworks(self) -> None:
        """Seed TF and Keras once both are fully imported (either may import the other)."""
        if not self.settings.force_seed or "forced" in self._ready:
            return
        if {"tensorflow", "keras"} <= self._ready:
            self._ready.add("forced")
            original = sys.modules["keras"].utils.set_random_seed.__seedcheck_original__
            self.seeding.unrecorded(lambda: original(self.settings.seed))

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> int:
        self.recorder.record("env", "env", environment.process_env())
        self.install()
        started = time.monotonic()
        exit_code, error = 0, None
        try:
            if self.settings.module:
                script.run_module(self.settings.module, self.settings.args)
            else:
                script.run_script(self.settings.script or "", self.settings.args)
        except SystemExit as stop:
            exit_code = script.exit_code_of(stop)
        except MaxStepsReached:
            exit_code = 0
        except BaseException as exc:  # noqa: BLE001 - the script's own failure, reported as python would
            if self.steps.stopped and is_stop(exc):
                exit_code = 0  # a stop TF passed on as its own error (steps.py turns the usual ones back)
            else:
                self.interrupted = isinstance(exc, KeyboardInterrupt)
                exit_code, error = (130 if self.interrupted else 1), exc
                script.report_uncaught(exc)
        finally:
            self.finish(exit_code, error, time.monotonic() - started)
        return exit_code

    def finish(self, exit_code: int, error: BaseException | None, duration: float) -> None:
        # What the script imported, before seedcheck's own recording below imports anything: the
        # hints only name the RNGs a script can draw from.
        used = {"tensorflow_used": "tensorflow" in sys.modules, "numpy_used": "numpy" in sys.modules}
        if "PYTHONHASHSEED" in os.environ and os.environ["PYTHONHASHSEED"] != self._hashseed_at_start:
            # seed_everything's os.environ["PYTHONHASHSEED"] = ...: hashing was fixed when Python started
            used["hashseed_set_late"] = True
        if self._numpy_initial is not None:
            # Drawn from (or seeded) since its import: a library's draws through numpy's RNG object
            # (scikit-learn's train_test_split) leave no other trace.
            self.recorder.guarded("numpy.random", lambda: used.update(
                numpy_global_changed=self._numpy_state() != self._numpy_initial))  # type: ignore[misc]
        if "tensorflow" in self._ready:
            self.recorder.guarded("data", self.steps.end_open_passes)
            self.recorder.guarded("weights", self.steps.flush_pending)
        self.recorder.guarded("draws", self.recorder.finish_draws)
        covered: set[int] = set()
        if self.keras is not None:
            self.recorder.guarded("weights", lambda: covered.update(self.keras.record_final_weights()))  # type: ignore[union-attr]
        if "tensorflow" in self._ready:
            self.recorder.guarded("weights", lambda: self.steps.record_final_variables(covered))
        self.recorder.guarded("env", self._record_tf_env)
        detail: dict[str, Any] = {"duration_s": round(duration, 3), **used}
        if self.settings.max_steps is not None:
            detail["max_steps"] = self.settings.max_steps
            detail["steps"] = self.steps.steps
            detail["stopped"] = self.steps.stopped
        self.recorder.guarded("sources", lambda: detail.update(sources=self.recorder.source_digests()))
        if error is not None:
            detail["exception"] = type(error).__name__
            detail["message"] = str(error)[:500]
        self.recorder.record("exit", "exit", exit_code, detail=detail)
        self.recorder.close()

    def _record_tf_env(self) -> None:
        tf = sys.modules.get("tensorflow")
        if tf is None or self._tf_env_recorded or not hasattr(tf, "config"):
            return
        self._tf_env_recorded = True
        self.recorder.record("env", "env/tensorflow", environment.tensorflow_env(tf))


def main() -> None:
    session = Session(HookSettings.from_env())
    exit_code = session.run()
    sys.stdout.flush()
    sys.stderr.flush()
    if session.interrupted:
        _exit_interrupted()
    sys.exit(exit_code)


def _exit_interrupted() -> None:
    """End as python ends on an uncaught KeyboardInterrupt: shut down (atexit handlers, threads),
    then kill itself with SIGINT, so the parent sees a SIGINT death (a shell's 130). Only the
    interpreter can act after its shutdown: hand the interrupt, already reported, back to it."""
    sys.excepthook = lambda *_: None
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
