"""Training steps and data passes outside `fit`: custom loops with GradientTape.

- Steps: `BaseOptimizer.apply` (which `apply_gradients` and fit's train_step call) is wrapped.
  Inside a tf.function the wrapper runs at trace time only, so it adds a `tf.py_function` after
  the real update, made to wait for a read of every updated variable: it runs once per step, and
  sees the weights after that step's update. Weights are
  recorded every K steps (`--every K`; custom loops default to every 100) and at the end of each
  data pass. Under XLA a py_function cannot compile: nothing is inserted and a note says so.
- Data passes: eager iteration of a `tf.data` iterator is fingerprinted batch by batch (in-graph
  `tf.fingerprint` per example); one full pass over a dataset, up to StopIteration, is a stage
  `data/loop@<site>/pass-<n>` keyed by the user's `for` loop.
"""

from __future__ import annotations

import functools
import sys
import weakref
from collections import Counter
from typing import Any

from seedcheck.fingerprint import bytes_fingerprint, combine, snapshot
from seedcheck.hook.recorder import Recorder
from seedcheck.hook.variables import read_named

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
        self.steps = 0
        self._open_passes: weakref.WeakSet[Any] = weakref.WeakSet()
        self._variables: list[Any] = []
        self._last_snapshot = 0
        self._passes: Counter[str] = Counter()
        self._xla_noted = False

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
        tf = _tf()
        if tf.executing_eagerly():
            self._on_step(variables)
            return
        from tensorflow.python.framework import ops
        from tensorflow.python.ops import control_flow_util

        if control_flow_util.GraphOrParentsInXlaContext(ops.get_default_graph()):
            if not self._xla_noted:
                self._xla_noted = True
                self._recorder.record("note", self._recorder.next_key("note/steps-not-captured"),
                                      "a training step runs under XLA (jit_compile): per-step weights are not captured")
            return
        # Auto control dependencies order ops that share a resource, not a py_function after an
        # update: read each variable (ordered after its update) and make the py_function wait.
        reads = [tf.convert_to_tensor(v) for v in variables]
        with tf.control_dependencies(reads):
            tf.py_function(lambda: self._on_step(variables), [], Tout=[])

    def _on_step(self, variables: list[Any]) -> None:
        if self.stopped:
            raise MaxStepsReached(self.max_steps)  # a step past the limit: the script caught the first stop
        self.steps += 1
        self._variables = variables
        every = self._every if self._every is not None else DEFAULT_LOOP_EVERY
        if self.steps % every == 0:
            self._recorder.guarded("weights", lambda: self.record_weights(f"weights/step-{self.steps}"))
        if self.max_steps is not None and self.steps >= self.max_steps and not self.in_fit:
            self.stop()
            raise MaxStepsReached(self.max_steps)

    def stop(self) -> None:
        """--max-steps reached: close the open data passes and snapshot the weights of this step,
        so every run's trace ends on the same stages."""
        self.stopped = True
        for iterator in list(self._open_passes):
            self._recorder.guarded("data", lambda iterator=iterator: self._end_pass(iterator, partial=True))
        if self.steps > self._last_snapshot:
            self._recorder.guarded("weights", lambda: self.record_weights(f"weights/step-{self.steps}"))

    def record_weights(self, key: str, site: str | None = None) -> None:
        if not self._variables:
            return
        value, detail = snapshot(read_named(self._variables))
        self._last_snapshot = self.steps
        self._recorder.record("weights", key, value, site=site, detail={"step": self.steps, **detail})

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
        tf = _tf()
        state = iterator.__dict__.get("_seedcheck_pass")
        if state is None:
            state = iterator.__dict__["_seedcheck_pass"] = {"site": self._recorder.user_site(), "batches": []}
            self._open_passes.add(iterator)
        rows = [tf.fingerprint(tf.reshape(t, [1]) if t.shape.rank == 0 else t).numpy().tobytes()
                for t in tf.nest.flatten(element, expand_composites=True)
                if hasattr(t, "shape") and hasattr(t, "dtype")]
        state["batches"].append(combine(bytes_fingerprint(r) for r in rows))

    def _end_pass(self, iterator: Any, partial: bool = False) -> None:
        state = iterator.__dict__.pop("_seedcheck_pass", None)
        self._open_passes.discard(iterator)
        if not state or not state["batches"]:
            return
        site = state["site"] or "?"
        self._passes[site] += 1
        stage = f"loop@{site}/pass-{self._passes[site]}"
        batches = state["batches"]
        self._recorder.record("data", f"data/{stage}", combine(batches), site=state["site"],
                              detail={"batches": len(batches), **({"partial": True} if partial else {}),
                                      "first_batches": [b[:16] for b in batches[:_MAX_BATCHES_IN_DETAIL]]})
        if self.steps > self._last_snapshot:
            self.record_weights(f"weights/{stage}", site=state["site"])
