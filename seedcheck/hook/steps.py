"""Training steps and data passes outside `fit`: custom loops with GradientTape.

- Steps: `BaseOptimizer.apply` (which `apply_gradients` and fit's train_step call) is wrapped.
  Inside a tf.function the wrapper runs at trace time only, so it adds graph ops after the real
  update: a step counter (a TF variable) and a `tf.cond` that, only on the steps where something
  is due (every K-th step: `--every K`, custom loops default to every 100; the `--max-steps` step),
  summarizes the weights in-graph and hands them to Python with a `tf.py_function`. Other steps
  never enter Python. Weights are also recorded at the end of each data pass. Under XLA a
  py_function cannot compile: nothing is inserted and a note says so.
- Data passes: eager iteration of a `tf.data` iterator is fingerprinted batch by batch (XXH3 over
  each tensor's host buffer, no copy); one full pass over a dataset, up to StopIteration, is a stage
  `data/loop@<site>/pass-<n>` keyed by the user's `for` loop.
"""

from __future__ import annotations

import functools
import sys
import weakref
from collections import Counter
from typing import TYPE_CHECKING, Any


from seedcheck.hook.recorder import Recorder

if TYPE_CHECKING:  # imported where TensorFlow is in use: a script without it never pays for them
    from seedcheck.hook.ingraph import WeightLayout

DEFAULT_LOOP_EVERY = 100
_MAX_BATCHES_IN_DETAIL = 8


class MaxStepsReached(BaseException):
    """Raised after the N-th optimizer step (--max-steps) to end the script's training. A
    BaseException, like KeyboardInterrupt, so a script's `except Exception` does not swallow it."""


def _tf() -> Any:
    return sys.modules["tensorflow"]


class StepCapture:
    def __init__(self, recorder: Recorder, every: int | None, max_steps: int | None = None) -> None:
        self._recorder = recorder
        self._every = every
        self.max_steps = max_steps
        self.stopped = False  # --max-steps ended training
        self.in_fit = False  # fit records its own epochs and data order
        self.fit_steps = 0  # steps counted by fit's callback (--max-steps in fit)
        self._counter: Any = None  # the graph's step counter, a TF variable
        self._open_passes: weakref.WeakSet[Any] = weakref.WeakSet()
        self._variables: list[Any] = []
        self._last_snapshot = 0
        self._passes: Counter[str] = Counter()
        self._xla_noted = False
        self._layout: WeightLayout | None = None
        self._layout_of: list[Any] = []

    @property
    def steps(self) -> int:
        """Optimizer steps so far (read from the counter the steps update; not for a hot path)."""
        counted = int(self._counter.numpy()) if self._counter is not None else 0
        return max(counted, self.fit_steps)

    # -- optimizer steps -----------------------------------------------------------------------
    def install(self, base_optimizer: type) -> None:
        original_apply = base_optimizer.apply

        @functools.wraps(original_apply)
        def apply(optimizer: Any, grads: Any, trainable_variables: Any = None) -> Any:
            result = original_apply(optimizer, grads, trainable_variables)
            self._recorder.guarded("steps", lambda: self._after_apply(optimizer, trainable_variables))
            return result

        base_optimizer.apply = apply

    def _after_apply(self, optimizer: Any, trainable_variables: Any) -> None:
        if self.in_fit and self._every is None:
            return  # fit's epochs (and --max-steps) are handled by its callback: no per-step work to add
        variables = list(trainable_variables) if trainable_variables is not None else \
            list(getattr(optimizer, "_trainable_variables", []) or [])
        self._variables = variables  # the same objects when the traced step runs
        tf = _tf()
        counter = self._step_counter()
        layout = self._layout_for(variables)
        if tf.executing_eagerly():
            step = int(counter.assign_add(1).numpy())
            if self._is_due(step):
                self._on_due(layout, step, layout.summarize([tf.convert_to_tensor(v) for v in variables]))
            return
        from tensorflow.python.framework import ops
        from tensorflow.python.ops import control_flow_util

        if control_flow_util.GraphOrParentsInXlaContext(ops.get_default_graph()):
            if not self._xla_noted:
                self._xla_noted = True
                self._recorder.record("note", self._recorder.next_key("note/steps-not-captured"),
                                      "a training step runs under XLA (jit_compile): per-step weights are not captured")
            return
        # Read each variable after its update (auto control dependencies order ops on one
        # resource), count the step after the reads, and summarize those reads when due.
        reads = [tf.convert_to_tensor(v) for v in variables]
        with tf.control_dependencies(reads):
            step = counter.assign_add(1)
        every = self._every if self._every is not None else DEFAULT_LOOP_EVERY
        due = tf.equal(step % every, 0)
        if self.max_steps is not None and not self.in_fit:
            due = tf.logical_or(due, step >= self.max_steps)

        def record() -> Any:
            tf.py_function(lambda n, *summary: self._on_due(layout, int(n), summary),
                           [step, *layout.summarize(reads)], Tout=[])
            return tf.constant(True)

        tf.cond(due, record, lambda: tf.constant(False))

    def _layout_for(self, variables: list[Any]) -> WeightLayout:
        from seedcheck.hook.ingraph import WeightLayout

        if self._layout is None or len(variables) != len(self._layout_of) or \
                any(a is not b for a, b in zip(variables, self._layout_of)):
            self._layout, self._layout_of = WeightLayout(variables), variables
        return self._layout

    def _step_counter(self) -> Any:
        if self._counter is None:
            tf = _tf()
            with tf.init_scope():
                self._counter = tf.Variable(tf.zeros([], tf.int64), trainable=False, name="seedcheck_steps")
        return self._counter

    def _is_due(self, step: int) -> bool:
        every = self._every if self._every is not None else DEFAULT_LOOP_EVERY
        return step % every == 0 or (self.max_steps is not None and step >= self.max_steps and not self.in_fit)

    def _on_due(self, layout: WeightLayout, step: int, summary: Any) -> None:
        """In Python, on the steps where something is due: the weights of this step, the stop."""
        if self.stopped:
            raise MaxStepsReached(self.max_steps)  # a step past the limit: the script caught the first stop
        every = self._every if self._every is not None else DEFAULT_LOOP_EVERY
        if step % every == 0:
            self._recorder.guarded("weights", lambda: self._record_summary(layout, step, summary))
        if self.max_steps is not None and step >= self.max_steps and not self.in_fit:
            self.stop(layout, step, summary)
            raise MaxStepsReached(self.max_steps)

    def stop(self, layout: WeightLayout, step: int, summary: Any) -> None:
        """--max-steps reached: close the open data passes and record the weights of this step,
        so every run's trace ends on the same stages."""
        self.stopped = True
        for iterator in list(self._open_passes):
            self._recorder.guarded("data", lambda iterator=iterator: self._end_pass(iterator, partial=True))
        if step > self._last_snapshot:
            self._recorder.guarded("weights", lambda: self._record_summary(layout, step, summary))

    def _record_summary(self, layout: WeightLayout, step: int, summary: Any) -> None:
        value, detail = layout.decode(*summary)
        self._last_snapshot = step
        self._recorder.record("weights", f"weights/step-{step}", value, detail={"step": step, **detail})

    def record_weights(self, key: str, site: str | None = None) -> None:
        from seedcheck.fingerprint import snapshot
        from seedcheck.hook.variables import read_named

        if not self._variables:
            return
        steps = self.steps
        value, detail = snapshot(read_named(self._variables))
        self._last_snapshot = steps
        self._recorder.record("weights", key, value, site=site, detail={"step": steps, **detail})

    # -- data passes -----------------------------------------------------------------------------
    def install_iterator(self, iterator_class: type) -> None:
        original_next = iterator_class.__next__
        capture = self

        @functools.wraps(original_next)
        def __next__(iterator: Any) -> Any:
            try:
                element = original_next(iterator)
            except StopIteration:
                if _tf().executing_eagerly() and not capture.in_fit:
                    capture._recorder.guarded("data", lambda: capture._end_pass(iterator))
                raise
            if _tf().executing_eagerly() and not capture.in_fit:
                capture._recorder.guarded("data", lambda: capture._on_element(iterator, element))
            return element

        iterator_class.__next__ = __next__

    def _on_element(self, iterator: Any, element: Any) -> None:
        state = iterator.__dict__.get("_seedcheck_pass")
        if state is None:
            state = iterator.__dict__["_seedcheck_pass"] = {"site": self._recorder.user_site(), "batches": []}
            self._open_passes.add(iterator)
        from seedcheck.fingerprint import array_fingerprint, combine

        parts = [t for t in _tf().nest.flatten(element, expand_composites=True) if hasattr(t, "numpy")]
        state["batches"].append(combine(array_fingerprint(t.numpy()) for t in parts))

    def _end_pass(self, iterator: Any, partial: bool = False) -> None:
        state = iterator.__dict__.pop("_seedcheck_pass", None)
        self._open_passes.discard(iterator)
        if not state or not state["batches"]:
            return
        from seedcheck.fingerprint import combine

        site = state["site"] or "?"
        self._passes[site] += 1
        stage = f"loop@{site}/pass-{self._passes[site]}"
        batches = state["batches"]
        self._recorder.record("data", f"data/{stage}", combine(batches), site=state["site"],
                              detail={"batches": len(batches), **({"partial": True} if partial else {}),
                                      "first_batches": [b[:16] for b in batches[:_MAX_BATCHES_IN_DETAIL]]})
        if self._variables and self.steps > self._last_snapshot:
            self.record_weights(f"weights/{stage}", site=state["site"])
