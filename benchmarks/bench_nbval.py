"""Wall and CPU time of the nbval run over every chapter (quick mode), in ordinary kernels and in
the preloaded ones the test command uses.

    python benchmarks/bench_nbval.py [--json OUT]

Runs ``pytest --nbval book`` twice in a row: first with ordinary kernels
(``--nbval-current-env``, as an instructor runs it: the baseline), then with kernels forked from
a process that has imported TensorFlow (``--nbval-kernel-name course-preloaded``, as `make test`
does). Reports each run's total wall time, its CPU time (pytest and everything it started: the
fork server and its kernels are waited for at exit), the per-notebook seconds (from pytest's
durations) and the ratios preloaded / ordinary.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


KERNELS = {
    "ordinary": ["--nbval-current-env"],
    "preloaded": ["--nbval-kernel-name", "course-preloaded"],
}


def nbval_seconds(kernel: str) -> tuple[float, float, dict[str, float]]:
    """(wall seconds, CPU seconds, {notebook: seconds}) of `pytest --nbval book` in quick mode
    with the ``kernel`` kind of kernel."""
    from slow_machine import children_cpu_s

    from course_utils.preloaded_kernel import jupyter_environment

    env = jupyter_environment({**os.environ, "COURSE_QUICK": "1", "TF_CPP_MIN_LOG_LEVEL": "3"})
    command = [
        sys.executable, "-m", "pytest", "--nbval", *KERNELS[kernel], "-p",
        "no:cacheprovider", "-q", "--durations=0", "book",
    ]  # fmt: skip
    start, cpu = time.perf_counter(), children_cpu_s()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    total, cpu = time.perf_counter() - start, children_cpu_s() - cpu
    if result.returncode != 0:
        raise SystemExit(f"nbval failed:\n{result.stdout[-3000:]}")
    per_notebook: dict[str, float] = defaultdict(float)
    for seconds, notebook in re.findall(r"([\d.]+)s \w+\s+(book/\S+\.ipynb)::", result.stdout):
        per_notebook[notebook] += float(seconds)
    return total, cpu, dict(per_notebook)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]
    from bench_resnet import cpu_model

    results = {"cpu": cpu_model(), "cores": os.cpu_count()}
    for kernel in KERNELS:
        total, cpu, per_notebook = nbval_seconds(kernel)
        results[kernel] = {
            "nbval_total_s": round(total, 1),
            "cpu_s": round(cpu, 1),
            "per_notebook_s": {k: round(v, 1) for k, v in sorted(per_notebook.items())},
        }
    ordinary, preloaded = results["ordinary"], results["preloaded"]
    results["preloaded_over_ordinary"] = {
        "wall": round(preloaded["nbval_total_s"] / ordinary["nbval_total_s"], 2),
        "cpu": round(preloaded["cpu_s"] / ordinary["cpu_s"], 2),
    }
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
