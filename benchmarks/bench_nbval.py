"""Wall time of the nbval run over every chapter, as the test command runs it (quick mode).

    python benchmarks/bench_nbval.py [--json OUT]

Reports the total and the per-notebook seconds (from pytest's durations) together with the
training speed of ResNet-50 measured in the same process, so that a time can be scaled to a
slower machine: minutes there ~ minutes here x (images/s here / images/s there).
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


def nbval_seconds() -> tuple[float, dict[str, float]]:
    """(total wall seconds, {notebook: seconds}) of `pytest --nbval book` in quick mode."""
    env = {**os.environ, "COURSE_QUICK": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [
        sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p",
        "no:cacheprovider", "-q", "--durations=0", "book",
    ]  # fmt: skip
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    total = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"nbval failed:\n{result.stdout[-3000:]}")
    per_notebook: dict[str, float] = defaultdict(float)
    for seconds, notebook in re.findall(r"([\d.]+)s \w+\s+(book/\S+\.ipynb)::", result.stdout):
        per_notebook[notebook] += float(seconds)
    return total, dict(per_notebook)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_resnet import cpu_model

    total, per_notebook = nbval_seconds()
    results = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "nbval_total_s": round(total, 1),
        "per_notebook_s": {k: round(v, 1) for k, v in sorted(per_notebook.items())},
    }
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
