"""CPU time of the test command by part: each chapter, test module and test class.

A pytest plugin, also under pytest-xdist; each process writes its figures to a JSON file:

    PYTHONPATH=$PWD/benchmarks PYTEST_ADDOPTS="-p cpu_by_part" CPU_BY_PART_DIR=/tmp/cpu make test
    python benchmarks/cpu_by_part.py /tmp/cpu

Only the run itself and its xdist workers record: a pytest that a test starts (the nbval runs of
the student version and of the graded submissions) inherits the plugin but is charged, whole, to
that test.

The CPU time of a test is that of its process and of the child processes it waited for
(`resource.getrusage`, self and children), so a test that starts a notebook kernel, a training
run or Chromium is charged for them. A child that
ends without being waited for at once is charged to the test during which it is reaped: a
notebook kernel's CPU time shows up at its last cell or at the next test of that process that
starts a subprocess. The part totals are therefore close, the split between neighbouring parts of
one process approximate.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

DIRECTORY_VARIABLE = "CPU_BY_PART_DIR"
SESSION_VARIABLE = "CPU_BY_PART_SESSION"  # the process id of the run that records
_cpu_s: dict[str, float] = defaultdict(float)
_wall_s: dict[str, float] = defaultdict(float)
_recording = False


def pytest_configure(config):
    """Record in the outermost run (which marks itself) and in the xdist workers it starts."""
    global _recording
    session = os.environ.get(SESSION_VARIABLE)
    if session is None:
        os.environ[SESSION_VARIABLE] = str(os.getpid())
        _recording = True
    else:
        is_worker = "PYTEST_XDIST_WORKER" in os.environ and os.getppid() == int(session)
        _recording = is_worker


def _cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def part_of(nodeid: str) -> str:
    """``path`` of a test, with ``::Class`` for a test in a class (``Cell N`` is no class)."""
    path, *rest = nodeid.split("::")
    if len(rest) > 1 and rest[0][:1].isupper() and not rest[0].startswith("Cell "):
        return f"{path}::{rest[0]}"
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if not _recording:
        yield
        return
    cpu, wall = _cpu_now(), time.perf_counter()
    yield
    _cpu_s[part_of(item.nodeid)] += _cpu_now() - cpu
    _wall_s[part_of(item.nodeid)] += time.perf_counter() - wall


def pytest_sessionfinish(session):
    if not _cpu_s:  # the xdist controller runs no test
        return
    folder = Path(os.environ.get(DIRECTORY_VARIABLE, "cpu-by-part"))
    folder.mkdir(parents=True, exist_ok=True)
    process = os.environ.get("PYTEST_XDIST_WORKER", "main")
    figures = {"cpu_s": _cpu_s, "wall_s": _wall_s, "process_cpu_s": _cpu_now()}
    (folder / f"{process}.json").write_text(json.dumps(figures, indent=1))


def report(folder: Path) -> str:
    """A Markdown table of the parts, most CPU time first, from the files in ``folder``."""
    rows, total = [], 0.0
    for path in sorted(folder.glob("*.json")):
        figures = json.loads(path.read_text())
        total += figures["process_cpu_s"]
        for part, cpu in figures["cpu_s"].items():
            rows.append((cpu, figures["wall_s"][part], part, path.stem))
    lines = ["| part | process | CPU-s | wall s |", "| --- | --- | --- | --- |"]
    for cpu, wall, part, process in sorted(rows, reverse=True):
        lines.append(f"| `{part}` | {process} | {cpu:.1f} | {wall:.1f} |")
    lines.append(f"| **all test processes, with their children** | | **{total:.1f}** | |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit(f"usage: python {sys.argv[0]} FOLDER (the {DIRECTORY_VARIABLE} of the run)")
    print(report(Path(sys.argv[1])))
