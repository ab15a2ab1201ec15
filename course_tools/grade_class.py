"""Grade a class: learners' notebooks autograded by nbgrader, each in a sandbox, into a gradebook
with points per check, and a feedback file per learner.

    python -m course_tools.grade_class SUBMISSION.ipynb [SUBMISSION.ipynb ...]
        [--course class] [--student NAME ...] [--cpu-s 900] [--memory-gib 8] [--cell-timeout-s 600]

Each submission is the learner's copy of a chapter with exercises (the assignment is the chapter
of the same file name); the learner is named by ``--student`` (one per submission, in order) or
else by the folder that holds the notebook. The course folder (default ``class/``) is an nbgrader
course (see `course_tools.classroom`); this command prepares it, puts each submission in
``submitted/``, and runs ``nbgrader autograde`` and ``nbgrader generate_feedback`` for it:

* nbgrader puts the instructor's check cells back in place, so that a check cell the learner
  edited, deleted or saved with a passing output counts for nothing; the checks import the course's
  graders themselves, and the graders refuse the course's own reference handed in as the learner's;
* each submission's kernel runs in its own sandbox (`course_tools.sandbox`): the project, the other
  submissions, the gradebook and /tmp read-only, its own HOME and TMPDIR, no network, limited
  CPU time and memory; a submission that crashes, hangs or runs out of memory fails with the reason;
* a learner's chapters are graded in order, and each later chapter gets the ``my_resnet.py`` that
  their earlier ones saved (chapter 04 builds on their own blocks);
* a chapter that trains (05, 09) trains briefly: `course_tools.brief_chapters` injects papermill's
  parameters (one epoch on 32 images) into the copy in ``submitted/``, not into the learner's file;
* the command prints one line per submission as soon as it is graded, ``PASSED path (2/2
  points)`` or ``FAILED path: reason``, then how many passed, and exits 0 when every submission
  passed, 1 otherwise, 2 when it could not grade.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from course_tools import brief_chapters, classroom, feedback_page, grading_kernel, regrade, sandbox
from course_tools.notebooks import BOOK_DIR, SAVED_CODE_FILE, read_notebook

DEFAULT_COURSE = Path("class")


class SubmissionError(ValueError):
    """A submission cannot be graded as given (no chapter of its name, a bad student name)."""


@dataclass(frozen=True)
class Verdict:
    """The grade of one submission."""

    submission: Path
    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    reasons: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.max_score > 0 and self.score == self.max_score and not self.reasons

    def __str__(self) -> str:
        points = f"{self.score:g}/{self.max_score:g} points"
        if self.passed:
            return f"PASSED {self.submission} ({points})"
        return f"FAILED {self.submission} ({points}): " + " | ".join(self.reasons)


def student_names(submissions: list[Path], given: list[str] | None) -> list[str]:
    """One nbgrader student id per submission: ``given`` in order, else the folder holding each
    notebook. A learner may hand in several chapters; a name used twice for the same chapter gets
    ``-2``, ``-3``... ."""
    if given:
        if len(given) != len(submissions):
            raise SubmissionError(
                f"{len(given)} --student name(s) for {len(submissions)} submission(s): give one "
                "per submission, in the same order"
            )
        names = list(given)
    else:
        names = [Path(path).resolve().parent.name for path in submissions]
    cleaned = [re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "learner" for name in names]
    seen: Counter = Counter()
    unique = []
    for name, path in zip(cleaned, submissions, strict=True):
        seen[name, Path(path).name] += 1
        count = seen[name, Path(path).name]
        unique.append(name if count == 1 else f"{name}-{count}")
    return unique


def chapter_of(submission: Path, graded: list[Path]) -> Path:
    """The chapter of ``graded`` (`classroom.graded_chapters`) with the submission's file name."""
    by_name = {path.name: path for path in graded}
    name = Path(submission).name
    if name not in by_name:
        raise SubmissionError(
            f"{submission}: no graded chapter is named {name}; the graded chapters are "
            f"{', '.join(by_name)} (rename the learner's file to its chapter's name)"
        )
    return by_name[name]


def grade(
    submissions: list[Path],
    course: Path = DEFAULT_COURSE,
    students: list[str] | None = None,
    limits: sandbox.Limits | None = None,
    cell_timeout_s: int = classroom.CELL_TIMEOUT_S,
    on_verdict: Callable[[Verdict], None] | None = None,
) -> list[Verdict]:
    """Autograde every submission into the gradebook of ``course``, write its feedback file.

    Args:
        on_verdict: called with each submission's verdict as soon as it is graded (the command
            line prints it, so that an instructor sees the class progress).

    Returns:
        One Verdict per submission, in the order given.
    """
    limits = limits or sandbox.Limits()
    submissions = [Path(path) for path in submissions]
    for path in submissions:
        if not path.is_file():
            raise SubmissionError(f"{path} does not exist")
    names = student_names(submissions, students)
    graded = classroom.graded_chapters(BOOK_DIR)
    chapters = [chapter_of(path, graded) for path in submissions]
    course = classroom.prepare(course, sorted(set(chapters)), cell_timeout_s)
    warning = sandbox.sandbox_warning()
    if warning:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    verdicts: list[Verdict | None] = [None] * len(submissions)
    # In the chapters' order, so that a learner's earlier chapters are graded first and their
    # saved functions (my_resnet.py) are there for the later ones.
    for i in sorted(range(len(submissions)), key=lambda i: graded.index(chapters[i])):
        earlier = _earlier_work(course, names[i], chapters[i], graded)
        verdict = _grade_one(
            course, submissions[i], names[i], chapters[i], limits, cell_timeout_s, earlier
        )
        verdicts[i] = verdict
        if on_verdict is not None:
            on_verdict(verdict)
    return verdicts


def _earlier_work(course: Path, student: str, chapter: Path, graded: list[Path]) -> Path | None:
    """The learner's ``my_resnet.py`` as the grading of their latest earlier chapter left it
    (its passing checks save their functions there), or None."""
    for earlier in reversed(graded[: graded.index(chapter)]):
        assignment = classroom.assignment_name(earlier)
        path = course / "autograded" / student / assignment / SAVED_CODE_FILE
        if path.is_file():
            return path
    return None


def _grade_one(
    course: Path,
    submission: Path,
    student: str,
    chapter: Path,
    limits,
    timeout_s,
    earlier_work: Path | None = None,
):
    assignment = classroom.assignment_name(chapter)
    instructors = read_notebook(chapter)
    folder = course / "submitted" / student / assignment
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if earlier_work is not None:  # the learner's own functions, as their chapters left them
        shutil.copyfile(earlier_work, folder / SAVED_CODE_FILE)
    try:  # a chapter that trains does so briefly: its checks grade, not its accuracy
        brief_chapters.inject(submission, folder / chapter.name, brief_chapters.BRIEF)
    except Exception:  # unreadable here: nbgrader gives the reason
        shutil.copyfile(submission, folder / chapter.name)
    with tempfile.TemporaryDirectory(prefix="course-grading-") as scratch:
        scratch = Path(scratch)
        grading_kernel.kernel_spec(scratch / "jupyter")
        (scratch / "runtime").mkdir()
        (scratch / "home").mkdir()
        env = classroom.environment(
            {
                "JUPYTER_PATH": str(scratch / "jupyter"),
                "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
                grading_kernel.HOME_ENV: str(scratch / "home"),
                **limits.environment(),
            }
        )
        n_cells = len(instructors.cells)
        try:
            # The kernel's sockets are files (ipc), named by an absolute path: the kernel and
            # nbgrader work in different folders.
            sockets = f"--KernelManager.ip={scratch / 'runtime' / 'kernel'}"
            run = classroom.nbgrader(
                course, "autograde", assignment, "--student", student, "--force", sockets,
                env=env, timeout=timeout_s * n_cells + 120,
            )  # fmt: skip
            log = run.stdout + run.stderr
        except subprocess.TimeoutExpired as error:
            log = f"{error.stdout or ''}{error.stderr or ''}\nTimeoutExpired"
    graded = course / "autograded" / student / assignment / chapter.name
    if not graded.is_file():
        return Verdict(submission, student, assignment, reasons=(_why_not_graded(log, limits),))
    nb = read_notebook(graded)
    checks = classroom.test_cells(nb)
    reasons = [_reason(cell) for cell in checks if _failed(cell)]
    found = {cell.metadata["nbgrader"]["grade_id"] for cell in checks}
    reasons += [
        f"the check cell {cell.metadata['nbgrader']['grade_id']} is missing: copy it back from "
        "the chapter"
        for cell in classroom.test_cells(instructors)
        if cell.metadata["nbgrader"]["grade_id"] not in found
    ]
    passed_in_kernel = [
        cell.metadata["nbgrader"]["grade_id"] for cell in checks if not _failed(cell)
    ]
    overruled = _regrade_outside(read_notebook(submission), passed_in_kernel, limits)
    _record_overruled(course, chapter.name, assignment, student, overruled)
    reasons += overruled.values()
    feedback = classroom.nbgrader(
        course, "generate_feedback", assignment, "--student", student, "--force"
    )
    if feedback.returncode != 0:
        print(f"warning: no feedback file for {student}:\n{feedback.stderr}", file=sys.stderr)
    score, max_score = _points(course, chapter.name, assignment, student)
    reasons += _resource_problems(nb, limits, timeout_s)
    return Verdict(submission, student, assignment, score, max_score, tuple(reasons))


def _regrade_outside(submitted, checks: list[str], limits: sandbox.Limits) -> dict[str, str]:
    """Grade the exercise of each check in ``checks`` again outside the notebook's kernel
    (`course_tools.regrade`), from the submitted notebook's exercise cell alone.

    Returns:
        {check: reason} for the checks whose exercise fails there.
    """
    overruled = {}
    for check in checks:
        exercise = regrade.EXERCISES[check]
        sources = regrade.exercise_sources(submitted, exercise.cell)
        if len(sources) != 1:
            overruled[check] = (
                f"the notebook has {len(sources)} exercise cells {exercise.cell}, not one: copy "
                "the chapter's exercise cell back and write your code in it alone"
            )
            continue
        source = sources[0]
        result = regrade.regrade(check, source, limits)
        if not result.passed:
            overruled[check] = f"{exercise.cell}, graded outside the notebook: {result.message}"
    return overruled


def _record_overruled(
    course: Path, notebook: str, assignment: str, student: str, overruled: dict[str, str]
) -> None:
    """In the gradebook, no points for each overruled check, with the reason as the comment of
    its exercise cell (nbgrader's manual grading fields, which its feedback shows)."""
    if not overruled:
        return
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        name = Path(notebook).stem
        for check, reason in overruled.items():
            gradebook.find_grade(check, name, assignment, student).manual_score = 0.0
            cell = regrade.EXERCISES[check].cell
            try:
                comment = gradebook.find_comment(cell, name, assignment, student)
            except MissingEntry:
                continue
            comment.manual_comment = f"Graded again outside the notebook: {reason}"
        gradebook.db.commit()


def _resource_problems(nb, limits: sandbox.Limits, timeout_s: int) -> list[str]:
    """A cell that ran past the time limit or out of memory, wherever it is: such a submission
    fails even where its checks passed."""
    problems = []
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        names = {o.ename for o in cell.get("outputs", []) if o.output_type == "error"}
        if "CellTimeoutError" in names:
            problems.append(f"code cell {number} did not finish within {timeout_s} s")
        elif "MemoryError" in names:
            problems.append(
                f"code cell {number} ran out of memory (limit {limits.memory_gib:g} GiB)"
            )
    return problems


def _failed(cell) -> bool:
    return any(output.output_type == "error" for output in cell.get("outputs", []))


def _reason(cell) -> str:
    """What the failed check printed (the grader's verdict and hint) on one line, else its
    error."""
    printed = "".join(o.text for o in cell.get("outputs", []) if o.output_type == "stream")
    reason = classroom.printed_reason(printed)
    if reason is not None:
        return reason
    text = classroom.cell_text(cell)
    return text.splitlines()[-1] if text else "the check cell failed"


def _why_not_graded(log: str, limits: sandbox.Limits) -> str:
    if "TimeoutExpired" in log or "UnresponsiveKernelError" in log or "became unresponsive" in log:
        return "the notebook did not finish: a cell kept running and could not be interrupted"
    if "DeadKernelError" in log or "Kernel died" in log or "kernel died" in log.lower():
        return (
            "the notebook's kernel died: it crashed, or reached its limit of "
            f"{limits.cpu_s} CPU-seconds or {limits.memory_gib:g} GiB of memory"
        )
    last = [line for line in log.strip().splitlines() if line.strip()][-3:]
    return "nbgrader could not grade it: " + " / ".join(last)


def _points(course: Path, notebook: str, assignment: str, student: str) -> tuple[float, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submitted = gradebook.find_submission_notebook(Path(notebook).stem, assignment, student)
        return float(submitted.score), float(submitted.max_score)


def main(argv: list[str] | None = None) -> int:
    """Command line: grade one or more submissions."""
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.grade_class",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("submissions", type=Path, nargs="+", help="the learners' notebooks")
    parser.add_argument("--course", type=Path, default=DEFAULT_COURSE, help="nbgrader folder")
    parser.add_argument("--student", action="append", help="learner's name, once a submission")
    parser.add_argument("--cpu-s", type=int, default=sandbox.Limits.cpu_s)
    parser.add_argument("--memory-gib", type=float, default=sandbox.Limits.memory_gib)
    parser.add_argument("--cell-timeout-s", type=int, default=classroom.CELL_TIMEOUT_S)
    args = parser.parse_args(argv)
    if not feedback_page.mathjax_available():
        missing = feedback_page.MISSING_MATHJAX
        print(f"warning: the feedback pages will show formulas as TeX: {missing}", file=sys.stderr)
    try:
        verdicts = grade(
            args.submissions,
            args.course,
            args.student,
            sandbox.Limits(args.cpu_s, args.memory_gib),
            args.cell_timeout_s,
            on_verdict=lambda verdict: print(verdict, flush=True),
        )
    except (SubmissionError, RuntimeError) as error:
        print(f"Cannot grade: {error}", file=sys.stderr)
        return 2
    passed = sum(v.passed for v in verdicts)
    print(f"{passed} of {len(verdicts)} submissions passed.")
    print(f"Gradebook: {Path(args.course).resolve() / 'gradebook.db'}")
    print(f"Feedback: {Path(args.course).resolve() / 'feedback'}")
    return 0 if passed == len(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
