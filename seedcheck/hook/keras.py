"""`Model.fit` instrumentation: weights, data order and metrics, without changing what fit computes.

- `keras.Model.fit` is replaced by a wrapper that appends a callback: weights at train begin
  (init) and each epoch end, each epoch's logs. Every Model subclass inherits it.
- Data order: the model's `train_step` is shadowed on the instance and `train_function` reset so
  Keras rebuilds it. The wrapper runs the real step first, then folds the batch into an in-graph
  fingerprint chain (`ingraph.DataChain`), read at the epoch's end: no Python per batch. The ops
  come *after* the real step and draw no random numbers, so everything the step computes is
  unchanged; a test proves final weights bitwise identical with and without the hook.
- `evaluate`'s results and `predict`'s data (the batches it reads eagerly) are stages of their own.
- Initial values: `Layer.add_weight` is wrapped, so every layer variable is checked when it is
  created, with the user's call site, including layers built outside `fit`.
"""

from __future__ import annotations

import functools
import itertools
import sys
import threading
import types
import weakref
from typing import Any, Callable

from seedcheck.fingerprint import summarize
from seedcheck.hook.ingraph import DataChain
from seedcheck.hook.recorder import Recorder
from seedcheck.hook.steps import MaxStepsReached, StepCapture
from seedcheck.hook.variables import read_named, snapshot_of, uid_of


def _tf() -> types.ModuleType:
    return sys.modules["tensorflow"]


class KerasInstrumentation:
    def __init__(self, recorder: Recorder, steps: StepCapture, python_seeded: Callable[[], bool]) -> None:
        self._recorder = recorder
        self._steps = steps
        self._fit_count = 0
        self._evaluate_count = 0
        self._predict_count = 0
        self._fitted: weakref.WeakSet[Any] = weakref.WeakSet()
        # Every model made, with its place in creation order: the final weights of models that tie
        # on size and name (k-fold models all called "net") are recorded in the order the script
        # made them, the same in every run (a WeakSet's order follows memory addresses).
        self._models: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._chains: weakref.WeakKeyDictionary[Any, DataChain] = weakref.WeakKeyDictionary()
        # The parallel loader (a PyDataset read by worker threads or processes) of each model's current fit.
        self._loaders: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
        # The order-relevant parts of the tf.data pipeline of each model's current fit (pipeline.py).
        self._pipelines: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
        self._keras: types.ModuleType | None = None
        self.on_first_fit: list[Any] = []
        # Variables made while a tf.function is first traced (a model with no Input is built inside
        # fit's first step) have no value until TF runs their lifted initializers, just before that
        # call: (variable, key, site) each, and the fit init snapshots that wait for them.
        self._uninitialized: list[tuple[Any, str, str | None, dict[str, Any]]] = []
        self._init_snapshots: list[tuple[weakref.ref[Any], str]] = []  # (model, key)
        # Whether Python's `random` is seeded yet (the session's seeding state): a layer's
        # initializer or SeedGenerator made before it is seeded drew an unseeded seed.
        self.python_seeded = python_seeded

    # -- installation --------------------------------------------------------------------------
    def install(self, keras: types.ModuleType) -> None:
        self._keras = keras
        model_class = keras.Model
        original_fit = model_class.fit

        @functools.wraps(original_fit)
        def fit(model: Any, *args: Any, **kwargs: Any) -> Any:
            return self._instrumented_fit(original_fit, model, args, kwargs)

        original_evaluate = model_class.evaluate

        @functools.wraps(original_evaluate)
        def evaluate(model: Any, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("_use_cached_eval_dataset"):  # fit's own validation: in its epoch logs
                return original_evaluate(model, *args, **kwargs)
            return self._instrumented_evaluate(original_evaluate, model, args, kwargs)

        model_class.evaluate = evaluate
        original_predict = model_class.predict

        @functools.wraps(original_predict)
        def predict(model: Any, *args: Any, **kwargs: Any) -> Any:
            return self._instrumented_predict(original_predict, model, args, kwargs)

        model_class.predict = predict
        model_class.fit = fit

        # Every model passes through Model.__new__ (Sequential, functional, subclassed): remember
        # each one, so the final weights need no scan of the heap (gc.get_objects: ~150 ms).
        original_new = model_class.__new__
        models = self._models
        made = itertools.count()

        @functools.wraps(original_new)
        def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
            model = original_new(cls, *args, **kwargs)
            if isinstance(model, model_class):
                models[model] = next(made)
            return model

        model_class.__new__ = staticmethod(__new__)

        layer_class = keras.layers.Layer
        original_add_weight = layer_class.add_weight

        @functools.wraps(original_add_weight)
        def add_weight(layer: Any, *args: Any, **kwargs: Any) -> Any:
            variable = original_add_weight(layer, *args, **kwargs)
            initializer = kwargs.get("initializer", args[1] if len(args) > 1 else None)
            self._recorder.guarded("init", lambda: self._record_init(variable, initializer))
            return variable

        layer_class.add_weight = add_weight
        # A keras.Variable the script makes itself (its tf.Variable is made by Keras's code): kept
        # for `weights/final/script-variables` when no model holds it.
        variable_class = keras.Variable
        original_variable_init = variable_class.__init__

        @functools.wraps(original_variable_init)
        def variable_init(variable: Any, *args: Any, **kwargs: Any) -> None:
            original_variable_init(variable, *args, **kwargs)
            caller = sys._getframe(1)
            self._recorder.guarded("weights", lambda: self._steps.note_variable(variable, caller))

        variable_class.__init__ = variable_init
        self._install_initializer_seeds(keras)
        self._install_seed_generators(keras.random.SeedGenerator)

    def _install_initializer_seeds(self, keras: types.ModuleType) -> None:
        """A Keras 3 random initializer given no seed draws one from Python's `random` when it is
        made (with its layer), not when the variable is: whether `random` was seeded by then is
        noted on it, for the variables it initializes (a model seeded after its layers are made
        and built later, inside fit, has variables made after the seeding call all the same)."""
        from keras.src.initializers.random_initializers import RandomInitializer

        original_init = RandomInitializer.__init__

        @functools.wraps(original_init)
        def __init__(initializer: Any, *args: Any, **kwargs: Any) -> None:
            original_init(initializer, *args, **kwargs)
            if getattr(initializer, "_init_seed", 0) is None:
                initializer.__dict__["_seedcheck_python_seeded"] = self.python_seeded()

        RandomInitializer.__init__ = __init__

    def install_lifted_initialization(self, function_class: type) -> None:
        """On a tf.function's first call, TF initializes the variables its trace created (lifted
        out of the graph) and then runs the call: their initial values are read in between."""
        original = function_class._initialize_uninitialized_variables  # type: ignore[attr-defined]
        instrumentation = self

        @functools.wraps(original)
        def _initialize_uninitialized_variables(function: Any, initializers: Any) -> Any:
            try:
                result = original(function, initializers)
            except Exception:
                # Not liftable: TF initializes them inside the call, with its first step. Their
                # initial values cannot be read apart from it: none is recorded rather than a wrong one.
                if instrumentation._uninitialized:
                    instrumentation._recorder.guarded("init", lambda: instrumentation._record_initialized(
                        initializers, readable=False))
                raise
            if instrumentation._uninitialized:
                instrumentation._recorder.guarded("init", lambda: instrumentation._record_initialized(initializers))
            return result

        function_class._initialize_uninitialized_variables = _initialize_uninitialized_variables  # type: ignore[attr-defined]

    def _install_seed_generators(self, generator_class: type) -> None:
        """Dropout, noise and augmentation layers draw from a SeedGenerator whose seed, when the
        layer is given none, comes from Python's `random`. Its initial seed is recorded when the
        generator is first used (so layer initial values come first), with the user's call site."""
        original_init, original_next = generator_class.__init__, generator_class.next
        layer_class = self._keras.layers.Layer  # type: ignore[union-attr]
        # The seed a generator made with no seed= draws from Python's `random`, caught as it is drawn:
        # one made while a tf.function is traced (keras.random.normal with no seed=, its global
        # generator) has a state variable that cannot be read there.
        module = sys.modules[generator_class.__module__]
        original_default_seed = getattr(module, "make_default_seed", None)
        drawn = threading.local()
        if original_default_seed is not None:
            @functools.wraps(original_default_seed)
            def make_default_seed(*args: Any, **kwargs: Any) -> Any:
                drawn.seed = seed = original_default_seed(*args, **kwargs)
                return seed

            module.make_default_seed = make_default_seed

        def initial_seed(generator: Any) -> int:
            given = getattr(generator, "_initial_seed", None)
            if given is None:
                given = getattr(drawn, "seed", None)
            return int(given) if given is not None else int(read_named([generator.state])[0][1][0])

        @functools.wraps(original_init)
        def __init__(generator: Any, *args: Any, **kwargs: Any) -> None:
            drawn.seed = None
            original_init(generator, *args, **kwargs)
            generator.__dict__["_seedcheck_initial"] = None
            caller = sys._getframe(1)
            made_global = caller.f_code.co_name == "global_seed_generator"  # what keras.random ops with no seed= use
            if made_global:
                generator.__dict__["_seedcheck_global"] = True
            self._recorder.guarded("seed-generator", lambda: generator.__dict__.update(_seedcheck_made=(
                None if made_global else _owning_layer(caller, layer_class), self._recorder.user_site(),
                self.python_seeded())))
            self._recorder.guarded("seed-generator", lambda: generator.__dict__.update(
                _seedcheck_initial=initial_seed(generator)))

        @functools.wraps(original_next)
        def next(generator: Any, *args: Any, **kwargs: Any) -> Any:
            if "_seedcheck_initial" in generator.__dict__:
                initial = generator.__dict__.pop("_seedcheck_initial")
                self._recorder.guarded("seed-generator", lambda: self._record_seed_generator(generator, initial))
            return original_next(generator, *args, **kwargs)

        generator_class.__init__ = __init__
        generator_class.next = next

    def _record_seed_generator(self, generator: Any, initial: int | None) -> None:
        seed_arg = getattr(generator, "_initial_seed", None)
        detail = {"api": "keras.random.SeedGenerator", "name": generator.name, "seed_arg": seed_arg,
                  "unseeded": seed_arg is None}
        made = generator.__dict__.get("_seedcheck_made")
        made_at = None
        if made is not None:
            layer, made_at, python_seeded = made
            detail.update({"layer": layer, "made_at": made_at, "python_seeded_when_made": python_seeded})
        if generator.__dict__.get("_seedcheck_global"):
            detail["global"] = True  # made_at is then the first keras.random call with no seed=
        # At the line that made it (where seed= goes), in the order of first use, one row each.
        self._recorder.record_draw("rng", "keras.random.SeedGenerator", initial, detail, site=made_at, fold=False)

    # -- fit -------------------------------------------------------------------------------------
    def _instrumented_fit(self, original_fit: Any, model: Any, args: tuple, kwargs: dict) -> Any:
        self._recorder.guarded("data", self._steps.record_abandoned)  # a custom loop left with `break` before
        self._fit_count += 1
        fit_name = f"fit#{self._fit_count}"
        for action in self.on_first_fit:
            self._recorder.guarded("env", action)
        self.on_first_fit.clear()
        prepared: list[tuple[tuple, dict]] = []

        def prepare() -> None:
            callback = self._make_callback(model, fit_name, self._keras.callbacks.Callback)  # type: ignore[union-attr]
            prepared.append(_with_callback(args, kwargs, callback, self._keras.callbacks.CallbackList))  # type: ignore[union-attr]

        # If seedcheck cannot instrument this fit, the script's own fit still runs as written.
        self._recorder.guarded("fit", prepare)
        if prepared:
            args, kwargs = prepared[0]
        self._recorder.guarded("data-capture", lambda: self._capture_batches(model))
        data = args[0] if args else kwargs.get("x")
        self._recorder.guarded("data", lambda: self._note_loader(model, data))
        self._recorder.guarded("data", lambda: self._note_pipeline(model, data))
        self._fitted.add(model)
        outer, self._steps.in_fit = self._steps.in_fit, True
        try:
            history = original_fit(model, *args, **kwargs)
        finally:
            self._steps.in_fit = outer
        if self._steps.max_steps is not None and self._steps.steps >= self._steps.max_steps:
            self._steps.stopped = True
            raise MaxStepsReached(self._steps.max_steps)  # the epoch was closed cleanly: end the run here
        return history

    def _instrumented_evaluate(self, original_evaluate: Any, model: Any, args: tuple, kwargs: dict) -> Any:
        """The script's own `evaluate`: its results, `metrics/evaluate#<n>/<name>`, at its line. A test
        set evaluated differently in each run shows there, though every weight agrees."""
        self._evaluate_count += 1
        stage, site = f"evaluate#{self._evaluate_count}", self._recorder.user_site()
        instrumentation = self
        prepared: list[tuple[tuple, dict]] = []

        def prepare() -> None:
            class SeedcheckEvaluateCallback(self._keras.callbacks.Callback):  # type: ignore[union-attr, name-defined, misc]
                def on_test_end(self, logs: Any = None) -> None:
                    instrumentation._recorder.guarded(
                        "metrics", lambda: instrumentation._record_metrics(stage, logs, site=site))

            prepared.append(_with_callback(args, kwargs, SeedcheckEvaluateCallback(),
                                           self._keras.callbacks.CallbackList, position=6))  # type: ignore[union-attr]

        self._recorder.guarded("metrics", prepare)
        if prepared:
            args, kwargs = prepared[0]
        return original_evaluate(model, *args, **kwargs)

    def _instrumented_predict(self, original_predict: Any, model: Any, args: tuple, kwargs: dict) -> Any:
        """The script's own `predict`: Keras reads its batches eagerly, so the data it read is a
        stage of its own, `data/predict#<n>`, at its line (recorded when it returns), not a custom
        loop's pass left open until the exit."""
        if self._steps.in_fit:  # a callback's predict inside fit: fit's data is recorded, not this
            return original_predict(model, *args, **kwargs)
        self._predict_count += 1
        label, outer = f"predict#{self._predict_count}", self._steps.pass_label
        self._steps.pass_label = label
        failed = True
        try:
            result = original_predict(model, *args, **kwargs)
            failed = False
            return result
        finally:
            self._steps.pass_label = outer
            self._recorder.guarded("data", lambda: self._steps.end_labelled_passes(label, partial=failed))

    def _make_callback(self, model: Any, fit_name: str, base: type) -> Any:
        instrumentation = self
        steps = self._steps

        class SeedcheckCallback(base):  # type: ignore[misc, valid-type]
            def on_train_begin(self, logs: Any = None) -> None:
                key = f"weights/{fit_name}/init"
                if not model.weights:  # built by the first step: taken once its variables have values
                    instrumentation._init_snapshots.append((weakref.ref(model), key))
                instrumentation._recorder.guarded("weights", lambda: instrumentation.record_weights(model, key))

            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                chain = instrumentation._chains.get(model)
                if chain is not None:  # batches run outside an epoch (train_on_batch) do not count
                    instrumentation._recorder.guarded("data", chain.reset)
                self.steps_before_epoch = steps.fit_steps

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                stage = f"{fit_name}/epoch-{epoch + 1}"
                instrumentation._recorder.guarded("weights", steps.flush_pending)  # this epoch's --every steps first
                instrumentation._recorder.guarded("data", lambda: instrumentation._record_data(model, f"data/{stage}"))
                instrumentation._recorder.guarded(
                    "weights", lambda: instrumentation.record_weights(model, f"weights/{stage}"))
                instrumentation._recorder.guarded("metrics", lambda: instrumentation._record_metrics(stage, logs))

        if self._steps.max_steps is not None:  # per-batch Python work only when it is asked for
            def on_train_batch_end(callback: Any, batch: int, logs: Any = None) -> None:
                # `batch` is the index, in this epoch, of the last step just run (Keras 3).
                steps.fit_steps = callback.steps_before_epoch + batch + 1
                if steps.fit_steps >= steps.max_steps:  # type: ignore[operator]
                    model.stop_training = True  # Keras ends the epoch (its callbacks run) and fit

            SeedcheckCallback.on_train_batch_end = on_train_batch_end
        return SeedcheckCallback()

    def _capture_batches(self, model: Any) -> None:
        if model in self._chains:
            return
        if model.jit_compile:
            # XLA may not compile the fingerprint ops: keep the run intact, say what is not captured.
            self._recorder.record("note", self._recorder.next_key("note/data-order-not-captured"),
                                  "jit_compile is on: the data order inside fit is not fingerprinted")
            return
        real_step = model.train_step
        chain = self._chains[model] = DataChain()

        def train_step(data: Any) -> Any:
            __tracebackhide__ = True  # noqa: F841 - an error in the step is the script's (script.py)
            outputs = real_step(data)
            chain.update(data)
            return outputs

        object.__setattr__(model, "train_step", train_step)  # plain attribute: not tracked by Keras
        model.train_function = None  # rebuilt from our train_step by make_train_function

    def _note_loader(self, model: Any, data: Any) -> None:
        """A PyDataset that Keras reads in worker threads or processes (workers > 1, or
        use_multiprocessing): its `__getitem__` then runs concurrently, so draws from a shared RNG
        in it land in varying batches. Said with the data order, where it shows."""
        self._loaders.pop(model, None)
        if not isinstance(data, self._keras.utils.PyDataset):  # type: ignore[union-attr]
            return
        # Read as stored: the properties of a PyDataset that skipped super().__init__() set defaults on
        # the user's object and warn, from here.
        workers = int(vars(data).get("_workers", 1) or 0)
        processes = bool(vars(data).get("_use_multiprocessing", False))
        if workers > 1 or (workers > 0 and processes):  # when Keras starts workers (py_dataset_adapter)
            self._loaders[model] = {"type": type(data).__name__, "workers": workers, "multiprocessing": processes}

    def _note_pipeline(self, model: Any, data: Any) -> None:
        """The order-relevant parts of a tf.data pipeline fit reads (pipeline.describe)."""
        from seedcheck.hook.pipeline import describe

        self._pipelines.pop(model, None)
        found = describe(data) if "tensorflow" in sys.modules and isinstance(data, _tf().data.Dataset) else None
        if found is not None:
            self._pipelines[model] = found

    def _record_data(self, model: Any, key: str) -> None:
        chain = self._chains.get(model)
        if chain is None:
            return
        value, count, first = chain.read()
        if not count:
            return
        detail: dict[str, Any] = {"batches": count, "first_batches": first}
        loader = self._loaders.get(model)
        if loader is not None:
            detail["loader"] = loader
        pipeline = self._pipelines.get(model)
        if pipeline is not None:
            detail["pipeline"] = pipeline
        self._recorder.record("data", key, value, detail=detail)

    def _record_metrics(self, stage: str, logs: Any, site: str | None = None) -> None:
        for name, value in sorted((logs or {}).items()):
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            self._recorder.record("metrics", f"metrics/{stage}/{name}", number, site=site, detail={"metric": name})

    # -- weights ---------------------------------------------------------------------------------
    def record_weights(self, model: Any, key: str, site: str | None = None) -> None:
        if not model.weights:
            return
        value, detail = snapshot_of(model.weights)
        detail["model"] = model.name
        seed_states = [v for v in model.variables if "seed_generator_state" in v.path]
        if seed_states:  # Dropout & co.: not weights, but where their randomness comes from
            detail["seed_states"] = [summarize(name, a) for name, a in read_named(seed_states)]
        self._recorder.record("weights", key, value, site=site, detail=detail)

    def record_final_weights(self) -> set[int]:
        """`weights/final/<model>` for every live, built model whose weights no larger model holds
        (a sub-model, or the Functional model a Sequential keeps inside, is covered by its owner).
        Returns the ids of the variables recorded."""
        made = dict(self._models.items())
        models = [model for model in made if model.built and model.weights]
        covered: set[int] = set()
        # Largest first; among equals, the model the script trained, and Keras's inner Functional last.
        order = lambda m: (-len(m.weights), m not in self._fitted, type(m).__name__ == "Functional", m.name,  # noqa: E731
                           made[m])
        for model in sorted(models, key=order):
            ids = {id(v) for v in model.weights}
            if ids <= covered:
                continue
            covered |= ids
            self._recorder.guarded(
                "weights", lambda model=model: self.record_weights(
                    model, self._recorder.next_key(f"weights/final/{model.name}")))
        return covered

    def _record_init(self, variable: Any, initializer: Any = None) -> None:
        key, site = self._recorder.next_key(f"init/{variable.path}"), self._recorder.user_site()
        seeded = getattr(initializer, "__dict__", {}).get("_seedcheck_python_seeded")
        extra: dict[str, Any] = {} if seeded is None else {"initializer_python_seeded": seeded}
        uid = uid_of(variable)
        if uid is not None:
            extra["uid"] = uid
        if _uninitialized(variable):
            self._uninitialized.append((variable, key, site, extra))
            return
        self._record_init_value(variable, key, site, extra)

    def _record_init_value(self, variable: Any, key: str, site: str | None, extra: dict[str, Any]) -> None:
        ((name, value),) = read_named([variable])
        summary = summarize(name, value)
        self._recorder.record("init", key, summary["fp"], site=site, detail={**summary, **extra})

    def _record_initialized(self, initializers: Any, readable: bool = True) -> None:
        """The initial values of the variables a function's first call has just initialized (its
        `initializers`: TF's own list, so another function's variables wait for their own call),
        then the fit init snapshots that waited for them. Not `readable` (TF could not lift the
        initializers): a note instead, and the snapshots of their models are dropped."""
        ours = {id(variable) for variable, _ in initializers}
        waiting, self._uninitialized = self._uninitialized, []
        unread = []
        for variable, key, site, extra in waiting:
            if id(_inner(variable)) not in ours:
                self._uninitialized.append((variable, key, site, extra))
            elif readable:
                self._recorder.guarded("init", lambda: self._record_init_value(variable, key, site, extra))
            else:
                unread.append(key)
        if unread:
            self._recorder.record("note", self._recorder.next_key("note/init-not-captured"),
                                  f"the initial values of {len(unread)} variables made inside a tf.function "
                                  f"({unread[0]}, …) are set by its first step itself: not recorded")
        snapshots, self._init_snapshots = self._init_snapshots, []
        for model_ref, key in snapshots:
            model = model_ref()
            if model is None or not readable and any(id(_inner(v)) in ours for v in model.weights):
                continue
            if model.weights and not any(_uninitialized(v) for v in model.weights):
                self._recorder.guarded("weights", lambda: self.record_weights(model, key))
            else:
                self._init_snapshots.append((model_ref, key))


def _owning_layer(frame: Any, layer_class: type) -> str | None:
    """`name (Class)` of the layer whose constructor (or build) is making a SeedGenerator: the
    nearest `self` up the stack that is a Layer. Dropout's generator is otherwise only
    "seed_generator_2", and the user cannot tell which layer wants `seed=`."""
    for _ in range(12):
        if frame is None:
            return None
        owner = frame.f_locals.get("self")
        if isinstance(owner, layer_class):
            return f"{getattr(owner, 'name', '?')} ({type(owner).__name__})"
        frame = frame.f_back
    return None


def _inner(variable: Any) -> Any:
    """The tf.Variable a Keras 3 variable holds (a tf.Variable is its own)."""
    return getattr(variable, "_value", variable)


def _uninitialized(variable: Any) -> bool:
    """Whether a (Keras) variable has no value yet: made while a tf.function was being traced, its
    initializer lifted out to run before the function's first call."""
    from tensorflow.python.ops.resource_variable_ops import UninitializedVariable

    inner = _inner(variable)
    if not isinstance(inner, UninitializedVariable):
        return False
    with _tf().init_scope():
        return not bool(inner.is_initialized())


def _with_callback(args: tuple, kwargs: dict, callback: Any, callback_list: type,
                   position: int = 5) -> tuple[tuple, dict]:
    """Add our callback to `callbacks` (the positional argument at `position`: fit(x, y,
    batch_size, epochs, verbose, callbacks, ...), evaluate's is 6; or the keyword), last. The
    user's list is copied, never changed; a CallbackList the user built is appended to."""
    if len(args) > position:
        existing = args[position]
        return (*args[:position], _appended(existing, callback, callback_list), *args[position + 1:]), kwargs
    kwargs = dict(kwargs)
    kwargs["callbacks"] = _appended(kwargs.get("callbacks"), callback, callback_list)
    return args, kwargs


def _appended(existing: Any, callback: Any, callback_list: type) -> Any:
    if existing is None:
        return [callback]
    if isinstance(existing, callback_list):
        existing.callbacks.append(callback)
        return existing
    return [*existing, callback]
