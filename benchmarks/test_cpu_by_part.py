"""benchmarks/cpu_by_part.py: the plugin charges each part its own and its children's CPU time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))

from cpu_by_part import part_of, report  # noqa: E402

TESTS = textwrap.dedent(
    """
    import subprocess, sys

    def test_light():
        pass

    class TestBusyChild:
        def test_child_spins(self):
            spin = (
                "import time\\nend = time.process_time() + 0.3\\n"
                "while time.process_time() < end: pass"
            )
            subprocess.run([sys.executable, "-c", spin], check=True)

    """
)


def test_part_of_keeps_test_classes_and_drops_functions_and_notebook_cells():
    assert part_of("tests/test_a.py::test_x[1]") == "tests/test_a.py"
    assert part_of("tests/test_a.py::TestB::test_x") == "tests/test_a.py::TestB"
    assert part_of("book/05_training.ipynb::Cell 7") == "book/05_training.ipynb"


def test_a_run_writes_each_part_with_its_childrens_cpu_time_and_the_report_lists_them(tmp_path):
    (tmp_path / "test_sample.py").write_text(TESTS)
    out = tmp_path / "cpu"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(BENCHMARKS), os.environ.get("PYTHONPATH", "")]),
        "CPU_BY_PART_DIR": str(out),
    }
    for name in ("PYTEST_XDIST_WORKER", "CPU_BY_PART_SESSION", "PYTEST_ADDOPTS"):  # when measured
        env.pop(name, None)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "cpu_by_part", "-p", "no:cacheprovider"]
    subprocess.run([*command, "test_sample.py"], cwd=tmp_path, env=env, check=True)
    figures = json.loads((out / "main.json").read_text())
    assert set(figures["cpu_s"]) == {
        "test_sample.py", "test_sample.py::TestBusyChild",
    }  # fmt: skip
    assert figures["cpu_s"]["test_sample.py::TestBusyChild"] >= 0.3  # the child's spinning
    assert figures["cpu_s"]["test_sample.py"] < 0.3
    table = report(out)
    assert table.index("TestBusyChild") < table.index("| `test_sample.py` |")  # most CPU first
    assert "all test processes" in table.splitlines()[-1]
