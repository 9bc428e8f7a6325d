"""The `env` events: what can make two machines or two runs compute differently."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

# Environment variables that change what TF computes or how runs are seeded.
RELEVANT_ENV_VARS = (
    "PYTHONHASHSEED", "TF_DETERMINISTIC_OPS", "TF_CUDNN_DETERMINISTIC", "TF_ENABLE_ONEDNN_OPTS",
    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES", "TF_XLA_FLAGS", "TF_USE_LEGACY_KERAS", "KERAS_BACKEND",
)
PACKAGES = ("tensorflow", "tensorflow-cpu", "keras", "numpy")


def installed_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Versions of installed packages, read from their `<name>-<version>.dist-info` directories
    on sys.path: one directory listing each, where importlib.metadata costs ~40 ms of start-up."""
    wanted = {name.replace("-", "_").lower(): name for name in packages}
    versions: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if not name.endswith(".dist-info"):
                continue
            project, _, version = name[: -len(".dist-info")].partition("-")
            package = wanted.get(project.replace("-", "_").lower())
            if package is not None and package not in versions:
                versions[package] = version
    return {name: versions[name] for name in packages if name in versions}


def cpu_model() -> str | None:
    """The CPU's model name: two machines' kernels (AVX-512 or not) can round differently."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or None


def platform_name() -> str:
    """`platform.platform(terse=True)`, without the `subprocess` import (~6 ms) it makes on Linux."""
    if sys.platform == "linux" and hasattr(os, "confstr"):
        try:
            libc = (os.confstr("CS_GNU_LIBC_VERSION") or "").split()
        except (ValueError, OSError):
            libc = []
        uname = os.uname()
        name = f"{uname.sysname}-{uname.release}-{uname.machine}"
        return f"{name}-with-{libc[0]}{libc[1]}" if len(libc) == 2 else name
    return platform.platform(terse=True)


def process_env() -> dict[str, Any]:
    """Known without importing anything heavy."""
    versions = installed_versions()
    return {
        "host": platform.node(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform_name(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "packages": versions,
        "env": {name: os.environ[name] for name in RELEVANT_ENV_VARS if name in os.environ},
    }


def tensorflow_env(tf: Any) -> dict[str, Any]:
    """TF's runtime settings as training sees them (read once TF is in use, never earlier)."""
    info: dict[str, Any] = {"tensorflow": tf.__version__}
    keras = sys.modules.get("keras")
    if keras is not None:
        info["keras"] = getattr(keras, "__version__", None)
    info["devices"] = sorted(f"{d.device_type}:{d.name.rsplit(':', 1)[-1]}" for d in tf.config.list_physical_devices())
    info["intra_op_threads"] = tf.config.threading.get_intra_op_parallelism_threads()
    info["inter_op_threads"] = tf.config.threading.get_inter_op_parallelism_threads()
    info["op_determinism"] = _op_determinism()
    return info


def _op_determinism() -> bool | None:
    # TF 2.21 exports enable_op_determinism() but not its query; the query lives in the config module.
    try:
        from tensorflow.python.framework import config
    except ImportError:
        return None
    query = getattr(config, "is_op_determinism_enabled", None)
    return bool(query()) if query is not None else None
