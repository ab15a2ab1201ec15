"""The class's nbgrader course folder: each chapter with exercises is an nbgrader assignment of
the same name, its exercise cells nbgrader's solution cells and its check cells nbgrader's
autograded test cells, as the chapters' own cell metadata (``nbgrader``) marks them.

    COURSE/
        nbgrader_config.py          written here: the course's delimiters, kernel, time limit and
                                    feedback template
        gradebook.db                nbgrader's gradebook: points per check cell for each learner
        source/ASSIGNMENT/          the instructor's chapter
        release/ASSIGNMENT/         the student version (nbgrader generate_assignment)
        submitted/STUDENT/ASSIGNMENT/, autograded/..., feedback/...

Everything else is nbgrader's own: an instructor who knows nbgrader can run its commands in
COURSE (``nbgrader autograde``, ``nbgrader export``, ``nbgrader formgrader``...).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from course_tools import feedback_page
from course_tools.grading_kernel import KERNEL_NAME
from course_tools.notebooks import (
    BOOK_DIR,
    END_MARKER,
    START_MARKER,
    chapter_notebooks,
    read_notebook,
)

# nbgrader replaces each solution region (between the markers) by this in the student version.
CODE_STUB = f"{START_MARKER}\n# YOUR CODE HERE\nraise NotImplementedError()\n{END_MARKER}"
CELL_TIMEOUT_S = 600
# What a grader prints before the reason of a failure (course_utils.grading.harness.FAILED, written
# here so that grading a class does not import Keras).
FAILED = "Test failed: "


def graded_chapters(book_dir: Path = BOOK_DIR) -> list[Path]:
    """The chapters with at least one nbgrader test cell, in reading order."""
    return [
        path
        for path in chapter_notebooks(book_dir)
        if any(_nbgrader(cell).get("grade") for cell in read_notebook(path).cells)
    ]


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def assignment_name(chapter: Path | str) -> str:
    """The assignment of a chapter: its file name without ``.ipynb``."""
    return Path(chapter).stem


def write_config(course: Path, cell_timeout_s: int = CELL_TIMEOUT_S) -> Path:
    """Write ``COURSE/nbgrader_config.py``."""
    config = f"""# Written by course_tools.classroom: the course's settings for nbgrader.
c = get_config()
c.CourseDirectory.root = {str(course)!r}
c.ClearSolutions.begin_solution_delimeter = {START_MARKER.strip("# ")!r}
c.ClearSolutions.end_solution_delimeter = {END_MARKER.strip("# ")!r}
c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}
# Submissions run in the sandboxed kernel of course_tools.grading_kernel; its sockets are files
# in its connection folder, since it has no network.
c.Execute.kernel_name = {KERNEL_NAME!r}
c.Execute.timeout = {cell_timeout_s}
c.KernelManager.transport = "ipc"
""" + feedback_page.configure_lines()
    path = course / "nbgrader_config.py"
    path.write_text(config, encoding="utf-8")
    return path


def nbgrader(course: Path, *args: str, env: dict | None = None, timeout: float | None = None):
    """Run ``nbgrader ARGS`` in the course folder; the finished process, output captured."""
    env = dict(os.environ if env is None else env)
    # nbgrader runs the programs of its environment by name (alembic, to set up the gradebook).
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def prepare(course: Path, chapters: list[Path], cell_timeout_s: int = CELL_TIMEOUT_S) -> Path:
    """Make ``course`` an nbgrader course folder holding ``chapters`` as assignments, each
    generated (student version in ``release/``, test cells recorded in the gradebook).

    Raises:
        RuntimeError: nbgrader could not generate an assignment; the message holds its log.
    """
    course = Path(course).resolve()
    course.mkdir(parents=True, exist_ok=True)
    write_config(course, cell_timeout_s)
    for chapter in chapters:
        assignment = assignment_name(chapter)
        source = course / "source" / assignment
        source.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(chapter, source / Path(chapter).name)
        images = Path(chapter).parent / "images"
        if images.is_dir():
            shutil.copytree(images, source / "images", dirs_exist_ok=True)
        run = nbgrader(course, "generate_assignment", assignment, "--force")
        if run.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{run.stderr}")
    return course


def test_cells(nb) -> list:
    """The nbgrader test cells of a notebook (autograded: ``grade`` and not ``solution``)."""
    return [
        cell
        for cell in nb.cells
        if _nbgrader(cell).get("grade") and not _nbgrader(cell).get("solution")
    ]


def cell_text(cell) -> str:
    """What a cell printed, and the error it raised, as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts).strip()


def printed_reason(printed: str) -> str | None:
    """The reason of a failure in what a grader printed, on one line; None if it printed none."""
    if FAILED not in printed:
        return None
    return " ".join(printed.split(FAILED, 1)[1].split())


def environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment with ``extra``, TensorFlow's notices silenced."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}
