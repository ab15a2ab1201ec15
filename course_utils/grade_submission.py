"""Grade a learner's notebook with ``pytest --nbval`` against the instructor's expected outputs.

    python -m course_utils.grade_submission SUBMISSION.ipynb [--reference book/CHAPTER.ipynb]

nbval compares each cell's new output with the output stored in the notebook, so a submission
that was saved with a failing check (or an edited one) would grade itself. This command makes a
graded copy of the submission in which every check cell (tag ``check``, matched by order) has the
instructor's source and stored output, then runs ``pytest --nbval-lax`` on the copy: every cell
must run without an error, and every check cell must print exactly what it prints for the
reference solution (``All tests passed.``). Other cells' outputs are the learner's own and are
not compared. The exit status is pytest's: 0 when the submission passes.
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import tempfile
from pathlib import Path

from nbformat import NotebookNode

from course_utils.notebook_tools import (
    BOOK_DIR,
    cell_tags,
    check_cells,
    read_notebook,
    write_notebook_atomic,
)

CHECK_OUTPUT_TAG = "nbval-check-output"
# Tags with which a submission could excuse a cell from grading.
_EXCUSING_TAGS = {"nbval-skip", "raises-exception", "nbval-raises-exception"}


class SubmissionError(ValueError):
    """The submission cannot be matched with its reference notebook."""


def graded_copy(submission: NotebookNode, reference: NotebookNode) -> NotebookNode:
    """The submission with the reference's check cells (source, outputs, tags) put in place.

    Raises:
        SubmissionError: the two notebooks do not have the same number of check cells.
    """
    graded = copy.deepcopy(submission)
    theirs = check_cells(graded)
    ours = check_cells(reference)
    if len(theirs) != len(ours):
        raise SubmissionError(
            f"the submission has {len(theirs)} check cell(s), the reference {len(ours)}: "
            "restore the deleted check cells (tag 'check') from the chapter"
        )
    for cell in graded.cells:
        tags = [tag for tag in cell_tags(cell) if tag not in _EXCUSING_TAGS]
        if "tags" in cell.get("metadata", {}):
            cell.metadata["tags"] = tags
    for (_, cell), (_, expected) in zip(theirs, ours, strict=True):
        cell.source = expected.source
        cell.outputs = copy.deepcopy(expected.outputs)
        cell.execution_count = expected.execution_count
        cell.metadata["tags"] = [*cell_tags(expected), CHECK_OUTPUT_TAG]
    return graded


def default_reference(submission: Path, book_dir: Path = BOOK_DIR) -> Path:
    """The chapter of ``book_dir`` with the submission's file name."""
    reference = Path(book_dir) / Path(submission).name
    if not reference.is_file():
        raise SubmissionError(
            f"no chapter named {Path(submission).name} in {book_dir}; pass --reference"
        )
    return reference


def grade(
    submission: Path,
    reference: Path,
    pytest_args: list[str] | None = None,
    keep: Path | None = None,
) -> int:
    """Run ``pytest --nbval-lax`` on the graded copy of ``submission``; return pytest's status.

    Args:
        submission: the learner's notebook.
        reference: the instructor's notebook of the same chapter.
        pytest_args: extra arguments for pytest.
        keep: a folder where the graded copy is written and kept (default: a temporary one).
    """
    graded = graded_copy(read_notebook(submission), read_notebook(reference))
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        folder = Path(keep) if keep else Path(tmp)
        target = folder / Path(submission).name
        write_notebook_atomic(graded, target)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-current-env",
            "-p",
            "no:cacheprovider",
            "--color=no",
            "-q",
            "--rootdir",
            str(folder),
            *(pytest_args or []),
            str(target),
        ]
        print(f"Grading {submission} against {reference}", flush=True)
        return subprocess.call(command, cwd=folder)


def main(argv: list[str] | None = None) -> int:
    """Command line: grade one submission."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.grade_submission",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("submission", type=Path, help="the learner's notebook")
    parser.add_argument(
        "--reference",
        type=Path,
        help="the instructor's notebook (default: book/<submission's name>)",
    )
    parser.add_argument(
        "--keep", type=Path, help="write the graded copy to this folder and keep it"
    )
    parser.add_argument(
        "pytest_args", nargs=argparse.REMAINDER, help="after --, extra arguments for pytest"
    )
    args = parser.parse_args(argv)
    try:
        reference = args.reference or default_reference(args.submission)
        extra = [a for a in args.pytest_args if a != "--"]
        return grade(args.submission, reference, extra, args.keep)
    except (SubmissionError, FileNotFoundError) as error:
        print(f"Cannot grade {args.submission}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
