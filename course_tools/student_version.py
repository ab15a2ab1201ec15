"""Write the student version of the book: nbgrader's student version of every chapter with
exercises, and the other chapters with only the outputs a learner has not yet to earn.

    python -m course_tools.student_version --out student

The chapters with exercises go through ``nbgrader generate_assignment`` (see
`course_tools.classroom`): every region between ``### START CODE HERE ###`` and
``### END CODE HERE ###`` becomes ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` between
the same markers, and every stored output is cleared. The instructor's ``my_resnet.py`` (the
reference's code, saved by the checks when the chapters ran) is left out.

In every chapter, a learner never sees a result they have not earned: from the first code cell
that is an exercise (tag ``exercise``), a check (tag ``check``) or that uses the learner's saved
code (``my_functions(``, see `course_utils.my_code`) to the end of the chapter, every code cell
loses its outputs and execution count, since they may depend on the learner's work. Before it,
outputs are kept, but for anything written to standard error. The other pages and ``images/`` are
copied unchanged. The output folder is written next to its final place and renamed into it, so it
is never seen half-written.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course_tools import classroom
from course_tools.notebooks import (
    BOOK_DIR,
    CHECK_TAG,
    EXERCISE_TAG,
    SAVED_CODE_FILE,
    SAVED_WEIGHTS_FILE,
    cell_source,
    cell_tags,
    read_notebook,
)

# A call that runs the learner's saved functions (course_utils.my_code.my_functions).
USES_LEARNER_CODE = "my_functions("


def first_unearned_cell(nb: NotebookNode) -> int | None:
    """The index of the first code cell whose output may depend on the learner's work: an
    exercise, a check, or a cell that calls `my_functions`; None if the notebook has none."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if {EXERCISE_TAG, CHECK_TAG} & set(cell_tags(cell)):
            return index
        if USES_LEARNER_CODE in cell_source(cell):
            return index
    return None


def without_unearned_outputs(nb: NotebookNode) -> NotebookNode:
    """``nb`` as a learner gets it (changed in place and returned): no output or execution count
    from its `first_unearned_cell` on, and no standard-error output anywhere."""
    first = first_unearned_cell(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if first is not None and index >= first:
            cell.outputs = []
            cell.execution_count = None
        else:
            cell.outputs = [
                output
                for output in cell.outputs
                if not (output.output_type == "stream" and output.name == "stderr")
            ]
    return nb


def _write_learners_copy(chapter: Path, target: Path) -> None:
    """Write ``chapter`` to ``target`` through `without_unearned_outputs` (its bytes copied as
    they are where that changes nothing)."""
    nb = read_notebook(chapter)
    before = nbformat.writes(nb)
    if nbformat.writes(without_unearned_outputs(nb)) == before:
        shutil.copy2(chapter, target)
    else:
        target.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def write_student_version(book_dir: Path, out: Path) -> list[Path]:
    """Write the student version of ``book_dir`` to ``out`` (replaced as a whole, atomically).

    Returns:
        The notebooks written, under ``out``.
    """
    book_dir, out = Path(book_dir), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    written = []
    try:
        graded = classroom.graded_chapters(book_dir)
        course = classroom.prepare(staging / ".course", graded)
        for path in sorted(book_dir.iterdir()):
            if path.name.startswith((".", "_")) or path.name in (
                SAVED_CODE_FILE,
                SAVED_WEIGHTS_FILE,
            ):
                continue
            target = staging / path.name
            if path.is_dir():
                shutil.copytree(path, target, ignore=shutil.ignore_patterns(".*", "__pycache__"))
                continue
            if path in graded:
                path = course / "release" / classroom.assignment_name(path) / path.name
            if path.suffix == ".ipynb":
                _write_learners_copy(path, target)
                written.append(out / target.name)
            else:
                shutil.copy2(path, target)
        shutil.rmtree(course)
        staging.chmod(0o755)
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            old.rmdir()
            out.rename(old)
        staging.rename(out)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: write the student version."""
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.student_version",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("student"),
        help="folder to write (replaced as a whole; default: %(default)s)",
    )
    parser.add_argument(
        "--book-dir",
        type=Path,
        default=BOOK_DIR,
        help="folder of the instructor chapters (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    written = write_student_version(args.book_dir, args.out)
    for path in written:
        print(f"wrote {path}")
    print(f"Student version of {len(written)} notebook(s) in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
