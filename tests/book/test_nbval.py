"""nbval grades the chapters: what passes, what fails, and what the learner is told.

One ``pytest --nbval`` run (in a subprocess, on copies in a temporary folder) executes the student
version; one ``course_tools.grade_submission`` run grades, as an instructor grades a class, one
wrong implementation per exercise (each saved with its failing output) and a correct submission
that was never run. The tests read the JUnit reports of both. (The test command runs
``pytest --nbval book`` on the instructor chapters themselves.)
"""

from __future__ import annotations

import copy
import functools
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from learner_code import define, edit, grade
from nbformat.v4 import new_code_cell, new_output

from course_tools.notebooks import (
    BOOK_DIR,
    cell_source,
    chapter_notebooks,
    check_cells,
    exercise_cells,
    read_notebook,
    write_notebook_atomic,
)
from course_tools.student_version import write_student_version

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

NBVAL = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env"]
COMMON = ["-p", "no:cacheprovider", "--color=no", "-q"]


def environment() -> dict[str, str]:
    """For the pytest runs started here: TensorFlow's C++ notices silenced."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


@dataclass(frozen=True)
class Mistake:
    """A wrong implementation of an exercise: the reference with some text replaced."""

    function: str
    replacements: tuple[tuple[str, str], ...]

    def source(self) -> str:
        return edit(cell_source_of(self.function), self.replacements)

    @functools.cached_property
    def hint(self) -> str:
        """What the grader prints for this implementation (graded once)."""
        passed, printed = grade(self.function, define(self.source(), self.function))
        assert passed is False
        return printed


def cell_source_of(function: str) -> str:
    """The exercise cell of ``function`` in the book."""
    for path in chapter_notebooks():
        for _, cell in exercise_cells(read_notebook(path)):
            if cell.metadata["solution_of"] == function:
                return cell_source(cell)
    raise KeyError(function)


MISTAKES = {
    # The identity block without its skip connection: a plain stack of three convolutions.
    "02_identity_block.ipynb": Mistake(
        "identity_block",
        (("    X = layers.Add()([X, X_shortcut])\n", ""),),
    ),
    # The stride on the middle f x f convolution instead of the first 1 x 1 (ResNet v1.5).
    "03_convolutional_block.ipynb": Mistake(
        "convolutional_block",
        (
            (
                "F1,\n        (1, 1),\n        strides=(s, s),",
                "F1,\n        (1, 1),\n        strides=(1, 1),",
            ),
            (
                "F2,\n        (f, f),\n        strides=(1, 1),",
                "F2,\n        (f, f),\n        strides=(s, s),",
            ),
        ),
    ),
    # One identity block too few in every stage.
    "04_resnet50.ipynb": Mistake("ResNet50", (("[: n_blocks - 1]", "[: n_blocks - 2]"),)),
}


def with_exercise(nb, source: str):
    """A copy of ``nb`` whose (only) exercise cell holds ``source``."""
    nb = copy.deepcopy(nb)
    ((_, cell),) = list(exercise_cells(nb))
    cell.source = source
    return nb


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
    """One ``pytest --nbval`` run over the student version of the chapters with exercises.

    The instructor chapters themselves are run by the test command's ``pytest --nbval book``.
    """
    folder = tmp_path_factory.mktemp("nbval")
    write_student_version(BOOK_DIR, folder / "student")
    for path in (folder / "student").glob("*.ipynb"):
        if not list(exercise_cells(read_notebook(path))):
            path.unlink()  # identical to the instructor's chapter
    return run_nbval(folder, ["student"])


def saved_with_its_failing_output(name: str):
    """The chapter with its mistake in the exercise, saved after running: the check cell holds
    the hint it printed and False, as a learner would hand it in."""
    mistake = MISTAKES[name]
    nb = with_exercise(read_notebook(BOOK_DIR / name), mistake.source())
    ((_, check),) = check_cells(nb)
    check.outputs = [
        new_output("stream", name="stdout", text=mistake.hint),
        new_output("execute_result", data={"text/plain": "False"}, execution_count=1),
    ]
    return nb


def correct_and_never_run(folder: Path, name: str):
    """A learner's student notebook completed with a correct solution, never run, with a scratch
    cell added."""
    write_student_version(BOOK_DIR, folder)
    nb = with_exercise(read_notebook(folder / name), cell_source_of(MISTAKES[name].function))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.cells.append(new_code_cell("print(identity_block.__name__)"))
    return nb


CORRECT = "02_identity_block.ipynb"


@dataclass
class Grading:
    returncode: int
    stdout: str
    submissions: dict[str, Path]  # "wrong/NAME" or "correct/NAME": the learner's file
    cells: dict[str, dict[int, CellResult]]  # the same keys: the graded copy's cell results


@pytest.fixture(scope="module")
def grading(tmp_path_factory) -> Grading:
    """One ``course_tools.grade_submission`` run, as an instructor grades a class: one wrong
    implementation per exercise, each saved with its failing output, and a correct submission."""
    folder = tmp_path_factory.mktemp("grading")
    submissions = {}
    for name in sorted(MISTAKES):
        submissions[f"wrong/{name}"] = folder / "wrong" / name
        write_notebook_atomic(saved_with_its_failing_output(name), submissions[f"wrong/{name}"])
    submissions[f"correct/{CORRECT}"] = folder / "correct" / CORRECT
    nb = correct_and_never_run(folder / "student", CORRECT)
    write_notebook_atomic(nb, submissions[f"correct/{CORRECT}"])
    report = folder / "report.xml"
    run = subprocess.run(
        [
            sys.executable, "-m", "course_tools.grade_submission", "--keep", str(folder / "graded"),
            *(str(path) for path in submissions.values()), "--", f"--junitxml={report}",
        ],
        env=environment(), capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    results = parse_junit(report)
    cells = {
        key: results_of(results, f"{number:03d}/{path.name}")
        for number, (key, path) in enumerate(submissions.items(), start=1)
    }
    return Grading(run.returncode, run.stdout, submissions, cells)


def failed_cells(grading: Grading, key: str) -> list[int]:
    """The cell numbers of the verdict line ``FAILED <submission>: cells 3, 5 (...)``."""
    prefix = f"FAILED {grading.submissions[key]}: cells "
    (line,) = [line for line in grading.stdout.splitlines() if line.startswith(prefix)]
    return [int(number) for number in line[len(prefix) :].split(" (")[0].split(", ")]


# One class per fixture: the test command's two processes (pytest-xdist) run them in parallel.
class TestStudentVersion:
    @pytest.mark.parametrize("name", sorted(MISTAKES))
    def test_fails_on_its_check_cells(self, nbval_results, name):
        nb = read_notebook(BOOK_DIR / name)
        results = results_of(nbval_results, f"student/{name}")
        for index, _ in check_cells(nb):
            result = results[code_cell_number(nb, index)]
            assert not result.passed
            assert "All tests passed." in result.message  # expected, and not printed


class TestGradingAClass:
    @pytest.mark.parametrize("name", sorted(MISTAKES))
    def test_a_wrong_implementation_fails_its_check_cell_with_the_graders_hint(self, grading, name):
        nb = read_notebook(BOOK_DIR / name)
        hint = MISTAKES[name].hint
        assert hint.strip() and "All tests passed." not in hint
        results = grading.cells[f"wrong/{name}"]
        ((index, _),) = check_cells(nb)
        check = results[code_cell_number(nb, index)]
        assert not check.passed
        assert "All tests passed." in check.message  # the expected output ...
        assert hint.strip().splitlines()[0] in check.message  # ... and what the learner was told
        # The exercise cell itself runs: the check reports the failure, not an error.
        exercise_index, _ = next(exercise_cells(nb))
        assert results[code_cell_number(nb, exercise_index)].passed
        # The saved failing output did not grade itself: the verdict names the check cell.
        assert code_cell_number(nb, index) in failed_cells(grading, f"wrong/{name}")

    def test_a_correct_submission_passes_even_unexecuted(self, grading):
        """The learner's notebook has no outputs at all and a scratch cell of their own."""
        results = grading.cells[f"correct/{CORRECT}"]
        assert results and all(result.passed for result in results.values())
        assert f"PASSED {grading.submissions[f'correct/{CORRECT}']}\n" in grading.stdout

    def test_the_command_exits_1_when_a_submission_fails(self, grading):
        assert grading.returncode == 1, grading.stdout
        assert f"Grading {len(grading.submissions)} submission(s)" in grading.stdout
