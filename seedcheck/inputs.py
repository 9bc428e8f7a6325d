"""What the user asked to run, checked before any run starts: the script, directory or module,
`{seed}` placeholders, --artifact paths. A mistake found here costs a line, not an hour of runs."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
from pathlib import Path

from seedcheck.artifacts import artifact_path
from seedcheck.runner import Target
from seedcheck.usage import UsageProblem, checked_path_kind


def script_target(script: str | None, module: str | None, args: tuple[str, ...]) -> Target:
    if module:
        if script is not None:
            args = (script, *args)  # with -m, every positional argument is the module's
        _check_module(module)
        return Target(script=None, module=module, args=args)
    if script is None:
        raise UsageProblem("give a script to run (seedcheck run train.py) or a module (seedcheck run -m pkg.train)")
    path = Path(script)
    kind = checked_path_kind(path, "")
    if kind is None:
        raise UsageProblem(f"no such script: {script}")
    if kind == "dir":
        _check_directory(script)
        _check_source(str(path / "__main__.py"))
    else:
        _check_source(script)
    return Target(script=script, module=None, args=args)


def _check_source(script: str) -> None:
    """A script that does not compile would fail every run the same way: say so once, up front."""
    try:
        source = Path(script).read_bytes()
    except OSError as err:
        raise UsageProblem(f"cannot read {script}: {err.strerror}") from None
    try:
        compile(source, script, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as err:
        where = f" (line {err.lineno})" if isinstance(err, SyntaxError) and err.lineno else ""
        if isinstance(err, SyntaxError) and script.endswith(".py"):  # a script with a mistake, not another file
            raise UsageProblem(f"{script}: syntax error{where.replace(' (', ' at ').rstrip(')')}: {err.msg}") from None
        raise UsageProblem(f"{script} is not a Python script{where}: {err.msg if isinstance(err, SyntaxError) else err}") from None


def check_seed_placeholders(target: Target, artifacts: tuple[str, ...], run_seeds: list[int | None]) -> None:
    """`{seed}` needs a seed: without one it would reach the script (or name the file) literally, and
    every run would crash or miss its file."""
    if None not in run_seeds:
        return
    unseeded = "but the runs have no seed: give --seed N (or a --baseline recorded with seeds)"
    if target.takes_seed:
        raise UsageProblem(f"{{seed}} in the script's arguments, {unseeded}")
    for template in artifacts:
        if "{seed}" in template:
            raise UsageProblem(f"--artifact {template!r}: {{seed}} in it, {unseeded}")


def check_artifacts(artifacts: tuple[str, ...], run_seeds: list[int | None], jobs: int) -> None:
    """An --artifact must name one file per run: refused before any run, not reported as a divergence."""
    for template in artifacts:
        problem = _artifact_problem(template, run_seeds, jobs)
        if problem is not None:
            raise UsageProblem(f"--artifact {template!r}: {problem}")


def _artifact_problem(template: str, run_seeds: list[int | None], jobs: int) -> str | None:
    if not template.strip():
        return "empty; name the file the script writes"
    if template.endswith(("/", os.sep)) or template.rstrip("/" + os.sep) == "{run_dir}":
        return "names a directory; name the file the script writes in it"
    if jobs > 1 and "{run_dir}" not in template:
        return (f"with --jobs {jobs}, parallel runs would share this file (one run could be checked against "
                "another's); put {run_dir} in it, e.g. '{run_dir}/model.keras', and have the script write there")
    if "{run_dir}" not in template:
        for seed in run_seeds:
            path = artifact_path(template, seed, run_dir="", start_dir="")  # as typed: from the working directory
            if os.path.isdir(path):
                return f"{path} is a directory; name the file the script writes in it"
    return None


def _check_module(module: str) -> None:
    """Refuse a top-level module `python -m` would not find. `python -m` puts the working directory
    first on sys.path; seedcheck's own process (a console script) does not have it there at all."""
    top = module.split(".")[0]
    try:
        found = importlib.machinery.PathFinder.find_spec(top, [os.getcwd()]) is not None or \
            importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):  # an empty or malformed name
        found = False
    if not found:
        raise UsageProblem(f"no module named {top!r} (from -m {module}) in the working directory or on sys.path")


def _check_directory(script: str) -> None:
    """`python DIR` runs DIR/__main__.py (a zip file would too; a directory without it is refused)."""
    if not (Path(script) / "__main__.py").is_file():
        raise UsageProblem(f"{script} is a directory without __main__.py; give the training script inside it "
                           "(or use -m for a package)")
