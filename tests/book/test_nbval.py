"""nbval on the student version: an exercise not yet written fails its check cell. What the
learner is told then is tests/unit/test_grading.py's; the test command runs ``pytest --nbval
book`` on the instructor chapters themselves; tests/book/test_grade_class.py grades a class.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from course_tools import classroom
from course_tools.notebooks import BOOK_DIR, read_notebook, write_notebook_atomic
from course_tools.student_version import write_student_version

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

NBVAL = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env"]
COMMON = ["-p", "no:cacheprovider", "--color=no", "-q"]


def environment() -> dict[str, str]:
    """For the pytest runs started here: TensorFlow's C++ notices silenced."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def code_cell_number(nb, index: int) -> int:
    """nbval's number of the cell at ``index``: its position among the code cells."""
    return sum(cell.cell_type == "code" for cell in nb.cells[:index])


@dataclass
class CellResult:
    passed: bool
    message: str


def run_nbval(folder: Path, targets: list[str]) -> dict[tuple[str, int], CellResult]:
    """Run nbval on ``targets`` (relative to ``folder``); the result of every cell."""
    report = folder / "report.xml"
    subprocess.run(
        [*NBVAL, *COMMON, f"--junitxml={report}", "--rootdir", str(folder), *targets],
        cwd=folder,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return parse_junit(report)


def parse_junit(report: Path) -> dict[tuple[str, int], CellResult]:
    """{(notebook class name, cell number): result} from an nbval run's JUnit report."""
    results = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        problems = [child for child in case if child.tag in ("failure", "error")]
        message = "\n".join((p.get("message") or "") + "\n" + (p.text or "") for p in problems)
        path = case.get("classname", "")
        results[(path, int(case.get("name").split()[-1]))] = CellResult(not problems, message)
    return results


def results_of(results, notebook: str) -> dict[int, CellResult]:
    """The results of the cells of one notebook (path relative to the run's folder)."""
    classname = notebook.replace("/", ".")  # how the JUnit report names the notebook
    found = {cell: result for (path, cell), result in results.items() if path == classname}
    assert found, f"no result for {notebook} in {sorted({p for p, _ in results})}"
    return found


@pytest.fixture(scope="module")
def nbval_results(tmp_path_factory):
    """One ``pytest --nbval`` run over the student version of the chapters with exercises, each
    up to its last check cell.

    The instructor chapters themselves are run by the test command's ``pytest --nbval``, on the
    copy of `course_tools.brief_chapters`.
    """
    folder = tmp_path_factory.mktemp("nbval")
    write_student_version(BOOK_DIR, folder / "student")
    graded = {path.name for path in classroom.graded_chapters()}
    for path in (folder / "student").glob("*.ipynb"):
        if path.name not in graded:
            path.unlink()  # identical to the instructor's chapter
        else:  # what follows the last check cell is not under test here
            nb = read_notebook(path)
            last_check = max(nb.cells.index(cell) for cell in classroom.test_cells(nb))
            del nb.cells[last_check + 1 :]
            write_notebook_atomic(nb, path)
    return run_nbval(folder, ["student"])


class TestStudentVersion:
    @pytest.mark.parametrize("name", [p.name for p in classroom.graded_chapters()])
    def test_fails_on_its_check_cell(self, nbval_results, name):
        nb = read_notebook(BOOK_DIR / name)
        results = results_of(nbval_results, f"student/{name}")
        for check in classroom.test_cells(nb):
            result = results[code_cell_number(nb, nb.cells.index(check))]
            assert not result.passed
            assert "AssertionError" in result.message  # the check's verdict, not a crash
