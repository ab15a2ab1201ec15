"""Class grading time: how the time to grade a class grows with its size N.

    python benchmarks/bench_grading.py [--sizes 1 2 4] [--json OUT]

Grades N copies of the instructor's chapter 02 (each in a learner folder of its own) with
`course_tools.grade_class.grade`, in a fresh nbgrader course folder for each N, and reports
the wall time of each class, the time per submission, and the ratio of each class's time per
submission to that of the smallest class, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from course_tools.machine import cpu_model

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "02_identity_block.ipynb"


def grade_class(n: int, folder: Path) -> float:
    """Seconds to grade a class of ``n`` copies of CHAPTER; every copy must pass."""
    from course_tools.grade_class import grade

    submissions = []
    for index in range(n):
        path = folder / f"learner{index:03d}" / CHAPTER.name
        path.parent.mkdir(parents=True)
        shutil.copyfile(CHAPTER, path)
        submissions.append(path)
    started = time.perf_counter()
    verdicts = grade(submissions, folder / "course")
    seconds = time.perf_counter() - started
    failed = [str(v) for v in verdicts if not v.passed]
    if failed:
        raise SystemExit("a copy of the instructor's chapter failed:\n" + "\n".join(failed))
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    results = {"cpu": cpu_model(), "cores": os.cpu_count(), "classes": []}
    for n in sorted(args.sizes):
        with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
            seconds = grade_class(n, Path(folder))
        results["classes"].append(
            {"learners": n, "wall_s": round(seconds, 1), "per_learner_s": round(seconds / n, 1)}
        )
    base = results["classes"][0]["per_learner_s"]
    for entry in results["classes"]:
        entry["per_learner_over_smallest"] = round(entry["per_learner_s"] / base, 2)
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
