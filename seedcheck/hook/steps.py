"""Training steps and data passes outside `fit`: custom loops with GradientTape.

- Steps: `BaseOptimizer.apply` (which `apply_gradients` and fit's train_step call) is wrapped.
  Inside a tf.function the wrapper runs at trace time only. When the step is traced straight into
  a tf.function the script calls from Python (the usual custom loop), one call is one step: the
  graph gets no ops at all, the executed `ConcreteFunction` is recognised after each call and the
  steps are counted in Python, which snapshots the weights eagerly when they are due (every K-th
  step: `--every K` of 32 or more, custom loops default to every 100). A cond or counter in the
  graph cost ~2 % of a small CNN's step here; a Python check after the call costs ~1 µs. With
  `--every 1` such a function writes every step's summary into a buffer in-graph, with no cond,
  and Python takes the buffer after the calls, before it fills (a call nested in another function
  hands over in-graph instead). Under XLA nothing can be added to the compiled graph: its calls are
  counted in Python for any `--every` and for `--max-steps` (the stop comes after the call).
  Otherwise (the step inside a loop, a cond or another function, fit, `--max-steps`, `--every`
  from 2 to 31) it adds graph ops after the real update: a step counter (a TF variable) and a
  `tf.cond` that, only on the steps where something is due (including the `--max-steps` step),
  summarizes the weights in-graph and hands them to Python with a `tf.py_function`. Other steps
  never enter Python. With `--every K` below 32, due steps' summaries wait in TF variables and
  reach Python 32 at a time (or at the --max-steps stop), and whatever waits is taken before the
  next data pass, epoch or final weights are recorded: the graph would otherwise stop for Python
  on every step. Weights are also recorded at the end of each data pass. A compiled step inside
  fit or another function gets nothing (a py_function cannot compile), and a note says so.
- Data passes: eager iteration of a `tf.data` iterator is fingerprinted batch by batch (XXH3 over
  each tensor's host buffer, no copy); one full pass over a dataset, up to StopIteration, is a stage
  `data/loop@<site>/pass-<n>` keyed by the user's `for` loop. Keras's `predict` reads its batches
  eagerly too: what one call reads is `data/predict#<n>` (keras.py).
"""

from __future__ import annotations

import functools
import os
import sys
import weakref
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable

from seedcheck.fingerprint import array_fingerprint, combine, in_place_prefix
from seedcheck.hook.recorder import Recorder

if TYPE_CHECKING:  # imported where TensorFlow is in use: a script without it never pays for them
    from seedcheck.hook.ingraph import WeightLayout

DEFAULT_LOOP_EVERY = 100
# With `--every K` below this, due steps' summaries wait in TF variables and reach Python this many
# at a time: a py_function costs ~0.5 ms of a ~5 ms step here (the graph waits for Python).
BUFFERED_SNAPSHOTS = 32
_MAX_BATCHES_IN_DETAIL = 8


class MaxStepsReached(BaseException):
    """Raised after the N-th optimizer step (--max-steps) to end the script's training. A
    BaseException, like KeyboardInterrupt, so a script's `except Exception` does not swallow it."""


class _StopInGraph(StopIteration):
    """MaxStepsReached as it leaves a py_function. TensorFlow logs any other exception from a
    py_function as a warning, with its Python traceback, into the script's stderr (twice: the
    kernel and the rendezvous); a StopIteration becomes an OutOfRangeError, which it does not log.
    The function's eager call raises MaxStepsReached again (StepCapture.install_function_calls)."""


_AUTOGRAPH = os.path.join("tensorflow", "python", "autograph", "")
_LAST_DUE = "_seedcheck_last_due"  # a graph's attribute: the output of its last step's due-check


def _note_due(output: Any) -> None:
    from tensorflow.python.framework import ops

    try:
        setattr(ops.get_default_graph(), _LAST_DUE, output)
    except AttributeError:
        pass


def _weak(value: Any) -> Callable[[], Any]:
    """A weak reference to `value`, or a strong one where it cannot have a weak one."""
    try:
        return weakref.ref(value)
    except TypeError:
        return lambda: value


def _raise_stop() -> None:
    raise _StopInGraph("--max-steps reached")


def is_stop(error: BaseException) -> bool:
    """Whether `error` is the --max-steps stop: MaxStepsReached itself, or TensorFlow's error for it
    raised from a py_function (its message names the exception, as `_StopInGraph: ...`). Told by
    the error itself, so a later, real error of the script is never taken for the stop."""
    if isinstance(error, MaxStepsReached):
        return True
    errors = getattr(sys.modules.get("tensorflow"), "errors", None)
    op_error = getattr(errors, "OpError", None)
    return op_error is not None and isinstance(error, op_error) and \
        any(f"{name}:" in str(error) for name in (_StopInGraph.__name__, MaxStepsReached.__name__))


def _tf() -> Any:
    return sys.modules["tensorflow"]


class StepCapture:
    def __init__(self, recorder: Recorder, every: int | None, max_steps: int | None = None) -> None:
        self._recorder = recorder
        self._every = every
        self.max_steps = max_steps
        self.stopped = False  # --max-steps ended training
        self.in_fit = False  # fit records its own epochs and data order
        # A Keras call that reads its data eagerly (`predict#<n>`): the passes it begins are its stage.
        self.pass_label: str | None = None
        self.fit_steps = 0  # steps counted by fit's callback (--max-steps in fit)
        self._counter: Any = None  # the graph's step counter, a TF variable
        # Data passes begun and not yet recorded (id(state) -> state), and those whose iterator was
        # dropped before its end (a `break` out of `for batch in dataset.repeat()`): recorded as
        # partial passes at the next safe point (the next pass's first batch, a weights snapshot, a
        # fit, a stop, the exit), never from the garbage collector's callback, which may run in the
        # middle of a TF call. One list for the whole run: each pass's finalizer appends to it.
        self._open_passes: dict[int, dict[str, Any]] = {}
        self._latest_pass: dict[str, Any] | None = None  # the pass that read the last batch
        self._abandoned: list[dict[str, Any]] = []
        self._variables: list[Any] = []
        self._trained: dict[int, list[Any]] = {}  # id(optimizer) -> the variables it last updated
        self._last_snapshot = 0
        self._passes: Counter[str] = Counter()
        self._xla_noted = False
        self._eager_tensor: type | None = None  # tf's EagerTensor, once the iterator is instrumented
        self._batch_prefixes: dict[tuple[str, tuple[int, ...]], Any] | None = None
        # One layout per list of variables an optimizer updates (a GAN's two in one step), each
        # with weak references to its variables (a k-fold's dropped models must not stay alive): a
        # layout made again would make a new snapshot buffer, whose variables TF refuses when a
        # function is traced a second time.
        self._layouts: dict[tuple[int, ...], tuple[WeightLayout, list[Callable[[], Any]]]] = {}
        self._buffers: dict[int, _SnapshotBuffer] = {}  # id(layout) -> its buffer
        # Steps counted in Python: eager steps, and calls of a function whose graph holds them.
        self._python_steps = 0
        # The graphs of functions one call of which is `n` steps on these variables, and the
        # buffers its steps write to, one per step (--every 1): id(graph) -> (weak reference to the
        # graph, (n, variables, buffers)). Read after every call of every function, so a plain dict
        # (a WeakKeyDictionary lookup makes a weak reference each time); an entry goes with its graph.
        self._counted_graphs: dict[int, tuple[Any, tuple[int, list[Any], tuple[_SnapshotBuffer, ...]]]] = {}
        self._called_graphs: dict[int, Any] = {}  # id -> weakref of each function graph called once
        self.on_first_call: Callable[[Any], None] | None = None
        # tf.Variables the script's own lines make (not Keras's, not seedcheck's): weak references.
        self._script_variables: list[weakref.ref] = []

    @property
    def steps(self) -> int:
        """Optimizer steps so far (read from the counter the steps update; not for a hot path)."""
        counted = int(self._counter.numpy()) if self._counter is not None else self._python_steps
        return max(counted, self.fit_steps)

    @property
    def _loop_every(self) -> int:
        """Weights every this many steps: `--every K`, or the custom-loop default."""
        return self._every if self._every is not None else DEFAULT_LOOP_EVERY

    # -- optimizer steps -----------------------------------------------------------------------
    def install(self, base_optimizer: type) -> None:
        original_apply = base_optimizer.apply

        @functools.wraps(original_apply)
        def apply(optimizer: Any, grads: Any, trainable_variables: Any = None) -> Any:
            if self.max_steps is not None and not self.in_fit:
                grads = self._held_at_the_limit(grads)
            result = original_apply(optimizer, grads, trainable_variables)
            self._recorder.guarded("steps", lambda: self._after_apply(optimizer, trainable_variables))
            return result

        base_optimizer.apply = apply

    def _held_at_the_limit(self, grads: Any) -> Any:
        """In a graph, with --max-steps: the gradients, made to wait on a check that fewer than N
        steps were taken (at N it raises the stop), so that no update of a step past N can run. A
        loop inside one tf.function (`for batch in dataset` in the function) otherwise took step
        N+1 while the stop raised at step N was on its way out (the trace said N, the weights were
        N+1's). Only the gradients wait for it: the optimizer's own variables, made on the first
        call, must not."""
        tf = _tf()
        from tensorflow.python.framework import ops
        from tensorflow.python.ops import control_flow_util

        if tf.executing_eagerly() or control_flow_util.GraphOrParentsInXlaContext(ops.get_default_graph()):
            return grads  # no py_function in a compiled step, which is counted in Python
        grads = list(grads)

        def stop() -> Any:
            # A StopIteration leaves a py_function as an OutOfRangeError, which TF does not log
            # (an assertion's InvalidArgumentError it does, into the script's stderr).
            tf.py_function(_raise_stop, [], Tout=[])
            return tf.constant(False)

        # After the last step's own stop in this graph (a GAN's first optimizer, step N): this
        # check must not end the call before that step's weights are recorded.
        earlier = getattr(ops.get_default_graph(), _LAST_DUE, None)
        with tf.control_dependencies([earlier] if earlier is not None else []):
            past = tf.greater_equal(self._step_counter().read_value(), self.max_steps)
            limit = tf.cond(past, stop, lambda: tf.constant(True))
        with tf.control_dependencies([limit]):
            return [g if g is None else tf.nest.map_structure(tf.identity, g, expand_composites=True) for g in grads]

    def install_function_calls(self, concrete_function_class: type) -> None:
        """After each call of a function whose graph holds optimizer steps counted in Python."""
        from tensorflow.python.eager.context import executing_eagerly

        original_call_flat = concrete_function_class._call_flat  # type: ignore[attr-defined]
        capture, counted_graphs, called_graphs = self, self._counted_graphs, self._called_graphs

        @functools.wraps(original_call_flat)
        def _call_flat(function: Any, *args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # noqa: F841 - an error in the function is the script's (script.py)
            graph = function._func_graph
            called = called_graphs.get(id(graph))
            if called is None or called() is not graph:
                capture._first_call(function, graph)
            try:
                result = original_call_flat(function, *args, **kwargs)
            except Exception as error:
                if capture.stopped and is_stop(error):  # TF's OutOfRangeError for our _StopInGraph
                    raise MaxStepsReached(capture.max_steps) from None
                raise
            if counted_graphs:
                counted = capture._counted(function._func_graph)
                if counted is not None:
                    try:  # as `guarded` does, without a closure per call
                        capture._after_counted_call(*counted, eager=executing_eagerly())
                    except Exception as err:  # noqa: BLE001 - instrumentation must not break the script
                        capture._recorder.hook_error("steps", err)
            return result

        concrete_function_class._call_flat = _call_flat  # type: ignore[attr-defined]

    def _first_call(self, function: Any, graph: Any) -> None:
        """A function's first call: `on_first_call` looks at it (tfrandom's unseeded ops)."""
        key, called_graphs = id(graph), self._called_graphs
        called_graphs[key] = weakref.ref(graph, lambda _: called_graphs.pop(key, None))
        if self.on_first_call is not None:
            self._recorder.guarded("graph-random-ops", lambda: self.on_first_call(function))  # type: ignore[misc]

    def _after_apply(self, optimizer: Any, trainable_variables: Any) -> None:
        if self.in_fit and self._every is None:
            return  # fit's epochs (and --max-steps) are handled by its callback: no per-step work to add
        variables = list(trainable_variables) if trainable_variables is not None else \
            list(getattr(optimizer, "_trainable_variables", []) or [])
        self._variables = variables  # the same objects when the traced step runs
        self._trained[id(optimizer)] = variables  # every optimizer's, for the end (record_final_variables)
        tf = _tf()
        if tf.executing_eagerly():
            if self.max_steps is None:
                self._python_steps_done(1, variables)
                return
            counter = self._step_counter()
            layout = self._layout_for(variables)
            step = int(counter.assign_add(1).numpy())
            if self._is_due(step):
                self._on_due(layout, step, layout.summarize([tf.convert_to_tensor(v) for v in variables]))
            return
        from tensorflow.python.framework import ops

        graph = ops.get_default_graph()
        counting = self._counting_after_calls(graph)
        if counting is None:
            self._graph_steps(variables, 1)
            return
        applies, _, buffers = self._counted(graph) or (0, variables, ())
        if counting == "buffer":  # --every 1: every step summarized in-graph, no cond
            layout = self._layout_for(variables)
            buffer = self._buffer_for(layout)
            reads, step = self._read_then_count(variables, 1)
            buffer.append(step, layout.summarize(reads), clamp=True)
            buffers = (*buffers, buffer)
        key, counted_graphs = id(graph), self._counted_graphs
        counted_graphs[key] = (weakref.ref(graph, lambda _: counted_graphs.pop(key, None)),
                               (applies + 1, variables, buffers))

    def _counted(self, graph: Any) -> tuple[int, list[Any], tuple[_SnapshotBuffer, ...]] | None:
        entry = self._counted_graphs.get(id(graph))
        return entry[1] if entry is not None and entry[0]() is graph else None

    def _counting_after_calls(self, graph: Any) -> str | None:
        """How steps traced into `graph` are followed when a call of its function is exactly its
        applies (the graph is a function's own, not a loop body, a cond branch or a function inside
        another; outside fit): "count", no op in the graph, steps counted in Python; "buffer"
        (`--every 1`), each step's summary written to a buffer in-graph, taken from Python after
        the calls. None: the graph decides per step (counter and cond)."""
        outer = getattr(graph, "outer_graph", None)
        if self.in_fit or not getattr(graph, "building_function", False) or outer is None or outer.building_function:
            return None
        from tensorflow.python.ops import control_flow_util

        if control_flow_util.GraphOrParentsInXlaContext(graph):
            return "count"  # nothing can be added to a compiled step: counting its calls is the only way
        every = self._loop_every
        if self.max_steps is not None:
            return None
        return "count" if every >= BUFFERED_SNAPSHOTS else "buffer" if every == 1 else None

    def _after_counted_call(self, applies: int, variables: list[Any], buffers: tuple[_SnapshotBuffer, ...],
                            eager: bool) -> None:
        if not buffers:
            if eager:
                self._python_steps_done(applies, variables)
            else:  # a counted function called inside another one being traced: count at the call site
                self._graph_steps(variables, applies)
            return
        # The graph counted its steps and wrote their summaries: take each buffer before it fills.
        for buffer in dict.fromkeys(buffers):
            per_call = buffers.count(buffer)
            if eager:
                buffer.pending += per_call
                waiting = int(buffer.fill.numpy()) if buffer.nested else buffer.pending
                if waiting + per_call > buffer.size:
                    self._on_buffer(buffer.layout, buffer.take())
            else:  # called inside another function: Python will not see its calls, the graph hands over
                buffer.nested = True
                self._hand_over_when_full(buffer, per_call)

    def _hand_over_when_full(self, buffer: _SnapshotBuffer, per_call: int) -> None:
        tf = _tf()
        full = tf.greater(buffer.fill.read_value() + per_call, buffer.size)
        tf.cond(full, lambda: buffer.hand_over(self._on_buffer_in_graph), lambda: tf.constant(False))

    def _python_steps_done(self, applies: int, variables: list[Any]) -> None:
        self._python_steps += applies
        if self._counter is None:
            after = self._python_steps
        else:  # steps are also counted in a graph: one count for both, so step numbers are global
            after = int(self._counter.assign_add(applies).numpy())
        before = after - applies
        every = self._loop_every
        self._variables = variables
        if after // every > before // every:
            self.record_weights(f"weights/step-{after}")
        if self.max_steps is not None and after >= self.max_steps and not self.stopped:
            # A compiled step counted here: training stops after the call that reached N steps.
            self.stop(after, lambda: self.record_weights(f"weights/step-{after}"))
            raise MaxStepsReached(self.max_steps)

    def _graph_steps(self, variables: list[Any], applies: int) -> None:
        """Graph ops, after `applies` optimizer steps on `variables`: count them, and take the
        weights in-graph on the steps where something is due."""
        tf = _tf()
        from tensorflow.python.framework import ops
        from tensorflow.python.ops import control_flow_util

        if control_flow_util.GraphOrParentsInXlaContext(ops.get_default_graph()):
            if not self._xla_noted:
                self._xla_noted = True
                self._recorder.record("note", self._recorder.next_key("note/steps-not-captured"),
                                      "a training step runs under XLA (jit_compile): per-step weights are not captured")
            return
        layout = self._layout_for(variables)
        reads, step = self._read_then_count(variables, applies)  # summarized below when due
        every = self._loop_every
        due = tf.less(step % every, applies)  # a multiple of `every` among the steps just counted
        if self.max_steps is not None and not self.in_fit:
            due = tf.logical_or(due, step >= self.max_steps)

        if every < BUFFERED_SNAPSHOTS:
            buffer = self._buffer_for(layout)
            buffer.nested = True  # this graph appends and hands over by itself

            def keep() -> Any:
                fill = buffer.append(step, layout.summarize(reads))
                hand_over = tf.greater_equal(fill, buffer.size)
                if self.max_steps is not None and not self.in_fit:
                    hand_over = tf.logical_or(hand_over, step >= self.max_steps)
                return tf.cond(hand_over, lambda: buffer.hand_over(self._on_buffer_in_graph), lambda: tf.constant(False))

            if every == 1 and self.max_steps is None:
                keep()  # every step is due: no cond around it
            else:
                _note_due(tf.cond(due, keep, lambda: tf.constant(False)))
            return

        def record() -> Any:
            tf.py_function(lambda n, *summary: self._in_graph(self._on_due, layout, int(n), summary, applies),
                           [step, *layout.summarize(reads)], Tout=[])
            return tf.constant(True)

        _note_due(tf.cond(due, record, lambda: tf.constant(False)))

    def _read_then_count(self, variables: list[Any], applies: int) -> tuple[list[Any], Any]:
        """Graph ops: each variable read after its update (auto control dependencies order ops on
        one resource), then the step counter advanced by `applies` after the reads; (reads, step)."""
        tf = _tf()
        reads = [tf.convert_to_tensor(v) for v in variables]
        with tf.control_dependencies(reads):
            return reads, self._step_counter().assign_add(applies)

    def _buffer_for(self, layout: WeightLayout) -> _SnapshotBuffer:
        buffer = self._buffers.get(id(layout))
        if buffer is None or buffer.layout is not layout:
            buffer = self._buffers[id(layout)] = _SnapshotBuffer(layout, BUFFERED_SNAPSHOTS)
        return buffer

    def _on_buffer(self, layout: WeightLayout, rows: list[tuple[int, tuple[Any, Any, Any]]]) -> None:
        for step, summary in rows:
            self._on_due(layout, step, summary)

    def _on_buffer_in_graph(self, layout: WeightLayout, rows: list[tuple[int, tuple[Any, Any, Any]]]) -> None:
        self._in_graph(self._on_buffer, layout, rows)

    def _in_graph(self, work: Callable[..., None], *args: Any) -> None:
        """A py_function's Python work; a --max-steps stop leaves it as _StopInGraph (see there)."""
        try:
            work(*args)
        except MaxStepsReached:
            raise _StopInGraph from None

    def flush_pending(self) -> None:
        """Record the snapshots still waiting in the graph's buffers: before any stage that must
        follow them (a data pass, an epoch's or the final weights, the exit)."""
        waiting = [(step, index, buffer.layout, summary) for index, buffer in enumerate(list(self._buffers.values()))
                   for step, summary in buffer.take()]
        for step, _, layout, summary in sorted(waiting, key=lambda row: row[:2]):  # several optimizers: in step order
            self._on_due(layout, step, summary)

    def _layout_for(self, variables: list[Any]) -> WeightLayout:
        from seedcheck.hook.ingraph import WeightLayout

        key = tuple(map(id, variables))
        known = self._layouts.get(key)
        if known is None or any(v is not ref() for v, ref in zip(variables, known[1])):  # ids reused after a free
            for stale in [k for k, (_, refs) in self._layouts.items() if any(ref() is None for ref in refs)]:
                del self._layouts[stale]
            known = self._layouts[key] = (WeightLayout(variables), [_weak(v) for v in variables])
        return known[0]

    def _step_counter(self) -> Any:
        if self._counter is None:
            tf = _tf()
            with tf.init_scope():
                # Starts from the steps counted in Python so far: step numbers stay global.
                self._counter = tf.Variable(tf.constant(self._python_steps, tf.int64), trainable=False,
                                            name="seedcheck_steps")
        return self._counter

    def _is_due(self, step: int) -> bool:
        every = self._loop_every
        return step % every == 0 or (self.max_steps is not None and step >= self.max_steps and not self.in_fit)

    def _on_due(self, layout: WeightLayout, step: int, summary: Any, counted: int = 1) -> None:
        """In Python, on the steps where something is due: the weights of this step (the last of
        the `counted` steps just taken), the stop."""
        every = self._loop_every
        if self.stopped:
            if self.max_steps is None or step > self.max_steps:
                raise MaxStepsReached(self.max_steps)  # a step past the limit: the script caught the first stop
            if step % every == 0:  # taken before the stop, still waiting in another optimizer's buffer
                self._recorder.guarded("weights", lambda: self._record_summary(layout, step, summary))
            return
        if step % every < counted:
            self._recorder.guarded("weights", lambda: self._record_summary(layout, step, summary))
        if self.max_steps is not None and step >= self.max_steps and not self.in_fit:
            self.stop(step, lambda: self._record_summary(layout, step, summary))
            raise MaxStepsReached(self.max_steps)

    def stop(self, step: int, record_step_weights: Callable[[], None]) -> None:
        """--max-steps reached: close the open data passes and record the weights of this step
        (unless taken already), so every run's trace ends on the same stages."""
        self.stopped = True
        self.end_open_passes()
        if step > self._last_snapshot:
            self._recorder.guarded("weights", record_step_weights)

    def _record_summary(self, layout: WeightLayout, step: int, summary: Any) -> None:
        value, detail = layout.decode(*summary)
        self._last_snapshot = step
        self._recorder.record("weights", f"weights/step-{step}", value, detail={"step": step, **detail})

    def install_variable_creation(self, variable_metaclass: type) -> None:
        """Note each tf.Variable a line of the script makes itself (`W = tf.Variable(...)`): a loop
        that updates such variables by hand (`W.assign_sub(lr * g)`) has no optimizer step and no
        model, so without them its result would go unrecorded and the check pass on seeding alone."""
        original_call = variable_metaclass.__call__
        capture = self

        @functools.wraps(original_call)
        def __call__(cls: type, *args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # noqa: F841 - an error making the variable is the script's (script.py)
            variable = original_call(cls, *args, **kwargs)
            caller = sys._getframe(1)
            capture._recorder.guarded("weights", lambda: capture.note_variable(variable, caller))
            return variable

        variable_metaclass.__call__ = __call__  # type: ignore[method-assign]

    def note_variable(self, variable: Any, caller: Any) -> None:
        """Keep (weakly) a variable just made, if `caller`, the frame that made it, is the script's
        (a `tf.Variable`, or a `keras.Variable`: keras.py)."""
        while caller is not None and _AUTOGRAPH in caller.f_code.co_filename:  # converted_call's frames
            caller = caller.f_back
        filename = caller.f_code.co_filename if caller is not None else "<none>"
        # AutoGraph's rewrite of a function: the module it came from decides (a library's own
        # tf.function making its variables on the first call is not the script).
        if "__autograph_generated_file" in filename:
            filename = str(caller.f_globals.get("__file__") or "<none>")
        if self._recorder.is_user_file(filename):
            try:
                self._script_variables.append(weakref.ref(variable))
            except TypeError:  # not weak-referenceable: not kept alive by seedcheck either
                pass

    def record_final_variables(self, covered: set[int]) -> None:
        """`weights/final/trained-variables`: the variables optimizers updated that no model's final
        weights hold (tf.Variables of the script's own, trained in a custom loop; a model dropped
        before the end). A loop of fewer steps than its snapshot interval would otherwise leave no
        result. Then `weights/final/script-variables`: the tf.Variables the script's own lines made
        that neither holds (updated by hand, with no optimizer)."""
        uncovered = {id(v): v for variables in self._trained.values() for v in variables if id(v) not in covered}
        if uncovered and self.steps > 0:
            self.record_weights("weights/final/trained-variables", variables=list(uncovered.values()))
            covered = covered | set(uncovered)
        alive = [v for v in (ref() for ref in self._script_variables) if v is not None and id(v) not in covered]
        if alive:
            self.record_weights("weights/final/script-variables", variables=list({id(v): v for v in alive}.values()))

    def record_weights(self, key: str, site: str | None = None, variables: list[Any] | None = None) -> None:
        """A snapshot of `variables` (by default those the last optimizer step updated)."""
        self.record_abandoned()  # a pass left before these weights were taken comes first
        self.flush_pending()
        from seedcheck.hook.variables import snapshot_of

        variables = self._variables if variables is None else variables
        if not variables:
            return
        steps = self.steps
        value, detail = snapshot_of(variables)
        self._last_snapshot = steps
        self._recorder.record("weights", key, value, site=site, detail={"step": steps, **detail})

    # -- data passes -----------------------------------------------------------------------------
    def install_iterator(self, iterator_class: type) -> None:
        from tensorflow.python.eager.context import executing_eagerly
        from tensorflow.python.framework.ops import EagerTensor

        original_next = iterator_class.__next__
        capture = self
        self._eager_tensor = EagerTensor
        # Buffers are hashed as they are only where that is little-endian, as fingerprints are.
        self._batch_prefixes = {} if sys.byteorder == "little" else None

        @functools.wraps(original_next)
        def __next__(iterator: Any) -> Any:
            try:
                element = original_next(iterator)
            except StopIteration:
                if executing_eagerly() and not capture.in_fit:
                    capture._recorder.guarded("data", lambda: capture._end_pass(iterator))
                raise
            if not capture.in_fit:
                try:  # as `guarded` does, without a closure per batch
                    capture._on_element(iterator, element, executing_eagerly)
                except Exception as err:  # noqa: BLE001 - instrumentation must not break the script
                    capture._recorder.hook_error("data", err)
            return element

        iterator_class.__next__ = __next__

    def _on_element(self, iterator: Any, element: Any, executing_eagerly: Callable[[], bool]) -> None:
        """Per batch of a custom loop: kept to a few lines, since between steps Python's caches are
        cold. Measured here in a running loop, for an (images, labels) batch: 75 µs through tf.nest
        and the general fingerprint path; 50 µs with `_numpy()` views and `array_fingerprint`, of
        which the hash of the 200 KB of images was 12 µs and the 512 bytes of labels took 20 µs of
        Python; `_tuple_fingerprint` gives the same value with a few C calls per tensor."""
        fingerprint = self._tuple_fingerprint(element) if type(element) is tuple else None
        if fingerprint is None:
            if not executing_eagerly():
                return  # `next` while a function is traced: symbolic tensors, no batch yet
            parts = [t for t in _tf().nest.flatten(element, expand_composites=True) if hasattr(t, "numpy")]
            fingerprint = combine([array_fingerprint(_host_view(t)) for t in parts])
        state = iterator.__dict__.get("_seedcheck_pass")
        if state is None:
            self.record_abandoned()
            state = iterator.__dict__["_seedcheck_pass"] = {"site": self._recorder.user_site(), "batches": [],
                                                            "pipeline": self._pipeline_of(iterator),
                                                            "label": self.pass_label}
            self._open_passes[id(state)] = state
            state["finalizer"] = weakref.finalize(iterator, self._abandoned.append, state)
        state["batches"].append(fingerprint)
        self._latest_pass = state

    def _pipeline_of(self, iterator: Any) -> dict[str, Any] | None:
        """The order-relevant parts of the pipeline the iterator reads (once per pass, cached on
        its dataset)."""
        from seedcheck.hook.pipeline import describe

        found: list[Any] = []
        self._recorder.guarded("data", lambda: found.append(describe(getattr(iterator, "_dataset", None))))
        return found[0] if found else None

    def _tuple_fingerprint(self, element: tuple) -> str | None:
        """`combine([array_fingerprint(t) for t in element])` for a tuple of eager tensors of numeric
        dtypes on a little-endian machine, hashed through each tensor's buffer (a memoryview, no
        numpy array) from a prefix cached per (buffer format, shape). None when another path must
        take it: a symbolic tensor, strings, a dtype without a buffer format (bfloat16)."""
        eager, prefixes = self._eager_tensor, self._batch_prefixes
        if prefixes is None:
            return None
        parts = []
        for tensor in element:
            if type(tensor) is not eager:
                return None
            try:
                view = memoryview(tensor)
            except (TypeError, ValueError, BufferError):
                return None
            prefix = prefixes.get((view.format, view.shape))
            if prefix is None:
                prefix = self._batch_prefix(view)
            if prefix is False:
                return None
            digest = prefix.copy()
            digest.update(view)
            parts.append(digest.hexdigest())
        return combine(parts)

    def _batch_prefix(self, view: memoryview) -> Any:
        """The `array_fingerprint` prefix for a buffer of this format and shape, or False where its
        bytes are not the values (object pointers of a string tensor)."""
        import numpy as np

        array = np.asarray(view)
        prefixes = self._batch_prefixes
        assert prefixes is not None
        if len(prefixes) >= 256:  # a shape per batch (variable-length data): keep the cache small
            prefixes.clear()
        prefix = in_place_prefix(array.dtype, array.shape)
        if prefix is None:
            prefix = False
        prefixes[(view.format, view.shape)] = prefix
        return prefix

    def end_open_passes(self) -> None:
        """Record every pass begun and not finished as partial: at a --max-steps stop, and at the
        exit (an iterator the script still holds, or one it left with `break`). Only the pass that
        read the last batch gets the weights taken now: an iterator held since an earlier phase
        (`it = iter(ds)`, then `next(it)` in a loop) went idle long before, and its row would
        show the weights at the end of the script as its own."""
        self._abandoned.clear()
        open_passes = list(self._open_passes.values())
        idle = [state for state in open_passes if state is not self._latest_pass]
        for state in idle:
            self._recorder.guarded("data", lambda state=state: self._record_pass(state, partial=True, weights=False))
        self._record_partial([state for state in open_passes if state is self._latest_pass])

    def end_labelled_passes(self, label: str, partial: bool) -> None:
        """At the end of the Keras call that read them (`predict`): its passes, under its own stage.
        Keras stops at the dataset's known length without a last read, so no StopIteration ends
        them; they read what the call asked for, and are complete unless the call failed."""
        for state in [state for state in self._open_passes.values() if state.get("label") == label]:
            self._recorder.guarded("data", lambda state=state: self._record_pass(state, partial=partial, weights=False))

    def record_abandoned(self) -> None:
        """Record the passes whose iterator was dropped before its end, if any (cheap otherwise)."""
        if not self._abandoned:
            return
        abandoned = self._abandoned[:]
        self._abandoned.clear()  # the same list: the finalizers of passes still open append to it
        self._record_partial(abandoned)

    def _record_partial(self, states: list[dict[str, Any]]) -> None:
        for state in states:
            self._recorder.guarded("data", lambda state=state: self._record_pass(state, partial=True))

    def _end_pass(self, iterator: Any) -> None:
        state = iterator.__dict__.pop("_seedcheck_pass", None)
        if state is not None:
            self._record_pass(state, partial=False)

    def _record_pass(self, state: dict[str, Any], partial: bool, weights: bool = True) -> None:
        if self._open_passes.pop(id(state), None) is None:
            return  # recorded already (a stop closed it, then the loop ended)
        state["finalizer"].detach()
        self.flush_pending()
        if not state["batches"]:
            return

        site = state["site"] or "?"
        label = state.get("label")  # a Keras call's own pass (`predict#2`): no training, no weights
        self._passes[label or site] += 1
        number = self._passes[label or site]
        if label:
            stage, weights = (label if number == 1 else f"{label}/pass-{number}"), False
        else:
            stage = f"loop@{site}/pass-{number}"
        batches = state["batches"]
        self._recorder.record("data", f"data/{stage}", combine(batches), site=state["site"],
                              detail={"batches": len(batches), **({"partial": True} if partial else {}),
                                      "first_batches": [b[:16] for b in batches[:_MAX_BATCHES_IN_DETAIL]],
                                      **({"pipeline": state["pipeline"]} if state.get("pipeline") else {})})
        if weights and self._variables and self.steps > self._last_snapshot:
            self.record_weights(f"weights/{stage}", site=state["site"])


def _host_view(tensor: Any) -> Any:
    """The tensor's values as a numpy array, without the copy `.numpy()` makes: EagerTensor's
    `_numpy()` shares the host buffer (measured here: a batch's copy cost ~3 % of a small CNN's step
    in a running loop, where a fresh 200 KB allocation per batch is page faults)."""
    view = getattr(tensor, "_numpy", None)
    return view() if view is not None else tensor.numpy()


class _SnapshotBuffer:
    """Due steps' weight summaries kept in TF variables until `size` of them wait, then handed to
    Python in one py_function; `take` empties it from Python between steps."""

    def __init__(self, layout: WeightLayout, size: int) -> None:
        tf = _tf()
        self.layout, self.size = layout, size
        numeric = sum(1 for entry in layout.entries if entry[3])
        samples = sum(entry[3] for entry in layout.entries)
        with tf.init_scope():
            def variable(shape: list[int], dtype: Any) -> Any:
                return tf.Variable(tf.zeros(shape, dtype), trainable=False, name="seedcheck_snapshots")

            self.steps = variable([size], tf.int64)
            self.fingerprints = variable([size, len(layout.entries), 8], tf.uint8)
            self.squares = variable([size, numeric], tf.float64)
            self.samples = variable([size, samples], tf.float64)
            self.fill = variable([], tf.int64)
        self._parts = (self.steps, self.fingerprints, self.squares, self.samples)
        self.handing_over = False
        self.handed_over_unreset = False
        # Taken from Python after the calls of a function that appends unconditionally: rows
        # appended since the last take, and whether the graph may also append unseen (a call
        # nested in another function, or a graph that hands over itself): then read the fill.
        self.pending = 0
        self.nested = False

    def append(self, step: Any, summary: list[Any], clamp: bool = False) -> Any:
        """Graph ops: write one step's summary into the next slot; the number now waiting. With
        `clamp`, a full buffer overwrites its last row rather than failing the step."""
        tf = _tf()
        fill = self.fill.read_value()
        slot = tf.reshape(tf.minimum(fill, self.size - 1) if clamp else fill, [1, 1])
        writes = [part.scatter_nd_update(slot, tf.expand_dims(value, 0))
                  for part, value in zip(self._parts, [step, *summary])]
        with tf.control_dependencies(writes):
            return self.fill.assign_add(1)

    def hand_over(self, on_rows: Any) -> Any:
        """Graph ops: give every waiting row to Python, then start over."""
        tf = _tf()
        layout = self.layout

        def in_python(fill: Any, steps: Any, fingerprints: Any, squares: Any, samples: Any) -> Any:
            self.handing_over = True  # what runs from here (a --max-steps stop) must not take these rows again
            try:
                on_rows(layout, self._rows(min(int(fill), self.size), steps.numpy(), fingerprints.numpy(), squares.numpy(),
                                           samples.numpy()))
            except BaseException:
                self.handed_over_unreset = True  # the step ends here, before the graph resets the fill
                raise
            finally:
                self.handing_over = False
            return True

        done = tf.py_function(in_python, [self.fill.read_value(), *(p.read_value() for p in self._parts)],
                              Tout=tf.bool)
        done.set_shape([])
        with tf.control_dependencies([done]):
            self.fill.assign(0)
            return tf.identity(done)

    def take(self) -> list[tuple[int, tuple[Any, Any, Any]]]:
        """Eagerly, between steps: the waiting rows, and the buffer emptied."""
        self.pending = 0
        if self.handing_over:
            return []
        if self.handed_over_unreset:
            self.handed_over_unreset = False
            self.fill.assign(0)
            return []
        fill = min(int(self.fill.numpy()), self.size)
        if not fill:
            return []
        rows = self._rows(fill, *(part.numpy() for part in self._parts))
        self.fill.assign(0)
        return rows

    @staticmethod
    def _rows(fill: int, steps: Any, fingerprints: Any, squares: Any, samples: Any
              ) -> list[tuple[int, tuple[Any, Any, Any]]]:
        return [(int(steps[i]), (fingerprints[i], squares[i], samples[i])) for i in range(fill)]
