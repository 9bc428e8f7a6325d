"""Post-import patching: a module is patched right after it first executes, never imported early.

A `sys.meta_path` finder wraps the loader of each watched module so a callback runs once the
module body has executed. The finder stays installed with a per-module "done" flag: something
probes `find_spec("keras")` before the real import (../shared/FACTS.md), so a finder that removed
itself after the first probe would never patch. Costs ~1 ms at start-up. The classes follow the
importlib protocols without subclassing `importlib.abc`, whose import costs ~16 ms here.
"""

from __future__ import annotations

import gc
import sys
import types
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import importlib.machinery

Callback = Callable[[types.ModuleType], None]


class _PatchingLoader:
    def __init__(self, inner: Any, on_loaded: Callable[[types.ModuleType], None], pause_gc: bool = False) -> None:
        self._inner = inner
        self._on_loaded = on_loaded
        self._pause_gc = pause_gc

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        # Put the real loader back first: code that inspects `__loader__` sees what it expects.
        module.__loader__ = self._inner
        if module.__spec__ is not None:
            module.__spec__.loader = self._inner
        paused = self._pause_gc and gc.isenabled()  # not if the script turned it off itself
        if paused:
            gc.disable()
        try:
            self._inner.exec_module(module)
        finally:
            if paused:
                gc.enable()
        self._on_loaded(module)

    def __getattr__(self, name: str):  # get_resource_reader, is_package, ... pass through
        return getattr(self._inner, name)


class PostImportFinder:
    def __init__(self, imported_without_gc: frozenset[str] = frozenset()) -> None:
        self._callbacks: dict[str, list[Callback]] = {}
        self._done: set[str] = set()
        self._resolving: set[str] = set()
        # Modules whose import runs with the cyclic garbage collector paused: `import tensorflow`
        # makes ~400 000 objects, and the collections they set off, each walking all that is
        # already there, took 0.2-0.5 s of its CPU time here. Paused only for the import: what it
        # left in cycles is collected by the next collection after it, as garbage made any time.
        self._imported_without_gc = imported_without_gc

    def when_imported(self, name: str, callback: Callback) -> None:
        """Run `callback(module)` once `name` has been imported (now, if it already has)."""
        module = sys.modules.get(name)
        if module is not None:
            self._done.add(name)
            callback(module)
            return
        self._callbacks.setdefault(name, []).append(callback)

    def find_spec(self, fullname, path, target=None):  # noqa: ANN001 - the importlib protocol
        if fullname not in self._callbacks or fullname in self._done or fullname in self._resolving:
            return None
        self._resolving.add(fullname)
        try:
            spec = None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
        finally:
            self._resolving.discard(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _PatchingLoader(spec.loader, lambda module: self._loaded(fullname, module),
                                      pause_gc=fullname in self._imported_without_gc)
        return spec

    def _loaded(self, name: str, module: types.ModuleType) -> None:
        if name in self._done:
            return
        self._done.add(name)
        for callback in self._callbacks.pop(name, []):
            callback(module)


def replace_everywhere(prefixes: tuple[str, ...], attribute: str, original: object, replacement: object) -> list[str]:
    """Point every loaded module under `prefixes` that exports `original` as `attribute` at
    `replacement`: public APIs re-export one function under many module paths."""
    return replace_all_everywhere(prefixes, {attribute: (original, replacement)})


def replace_all_everywhere(prefixes: tuple[str, ...], replacements: dict[str, tuple[object, object]]) -> list[str]:
    """`replace_everywhere` for many attributes in one pass over the loaded modules: numpy's ~45
    draws one by one scanned sys.modules ~45 times (2.4 ms with 233 modules loaded, 1.5 ms now)."""
    patched = []
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(prefixes):
            continue
        namespace = getattr(module, "__dict__", None)
        if namespace is None:
            continue
        for attribute, (original, replacement) in replacements.items():
            if namespace.get(attribute) is original:
                setattr(module, attribute, replacement)
                patched.append(f"{name}.{attribute}")
    return patched
