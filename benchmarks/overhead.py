"""Measure what seedcheck costs: the hook's overhead on a training run, its start-up on a script
that never imports TensorFlow, and the time to a verdict against the runs themselves.

Plain and hooked runs are interleaved (A/B/A/B...) in one invocation so drift in machine load hits
both alike; figures are medians with the min–max spread. Run: `make bench` or
`.venv/bin/python benchmarks/overhead.py --rounds 5`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from seedcheck.hook.settings import ENV_VAR, HookSettings  # noqa: E402

TRAINING = ["sample_scripts/classifier_fully_seeded.py", "--epochs", "3"]
CUSTOM_LOOP = ["sample_scripts/custom_loop.py", "--epochs", "3"]
NO_TF = ["tests/scripts/python_seeding.py"]


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def hooked_env(trace: Path, script: list[str]) -> dict[str, str]:
    settings = HookSettings(trace=str(trace), run="bench#1", seed=None, script=script[0], args=script[1:])
    return {**os.environ, ENV_VAR: settings.to_env(), "TF_CPP_MIN_LOG_LEVEL": "3"}


def ab(script: list[str], rounds: int, workdir: Path) -> tuple[list[float], list[float]]:
    plain_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    plain, hooked = [], []
    for index in range(rounds):
        plain.append(timed([sys.executable, *script], plain_env))
        hooked.append(timed([sys.executable, "-m", "seedcheck.hook"], hooked_env(workdir / f"{index}.jsonl", script)))
    return plain, hooked


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f}s (min {min(values):.3f}, max {max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"seedcheck overhead, {args.rounds} interleaved rounds, {os.cpu_count()} CPUs")
        plain, hooked = ab(TRAINING, args.rounds, work)
        ratio = statistics.median(hooked) / statistics.median(plain)
        print(f"training script (whole process, TF import included): plain {spread(plain)}")
        print(f"                                                    hooked {spread(hooked)}  ratio {ratio:.3f}x")
        plain, hooked = ab(CUSTOM_LOOP, args.rounds, work)
        ratio = statistics.median(hooked) / statistics.median(plain)
        print(f"custom tf.function loop (whole process):            plain {spread(plain)}")
        print(f"                                                    hooked {spread(hooked)}  ratio {ratio:.3f}x")
        plain, hooked = ab(NO_TF, args.rounds * 4, work)
        extra_ms = (statistics.median(hooked) - statistics.median(plain)) * 1000
        print(f"non-TF script start-up: plain {spread(plain)}, hooked {spread(hooked)}; hook adds {extra_ms:.0f} ms")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "seedcheck", "run", *TRAINING[:1], "--seed", "1", "--repeats", "3",
                        "--save", str(work / "verdict"), "-q", "--", *TRAINING[1:]], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        verdict = time.perf_counter() - started
        baseline = 3 * statistics.median(ab(TRAINING, 1, work)[0])
        print(f"time to verdict, seedcheck run --repeats 3: {verdict:.2f}s = {verdict / baseline:.2f}x "
              f"three plain runs ({baseline:.2f}s)")


if __name__ == "__main__":
    main()
