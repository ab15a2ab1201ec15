"""Grade learners' notebooks with ``pytest --nbval`` against the instructor's expected outputs.

    python -m course_tools.grade_submission SUBMISSION.ipynb [SUBMISSION.ipynb ...]
        [--reference book/CHAPTER.ipynb] [--keep FOLDER] [-- PYTEST_ARGS ...]

nbval compares each cell's new output with the output stored in the notebook, so a submission
that was saved with a failing check (or an edited one) would grade itself. This command makes a
graded copy of the submission in which every check cell (tag ``check``, matched by order) has the
instructor's source and stored output, then runs ``pytest --nbval-lax`` on the copy: every cell
must run without an error, and every check cell must print exactly what it prints for the
reference solution (``All tests passed.``). Other cells' outputs are the learner's own and are
not compared.

Several submissions (a whole class, say) are graded in one pytest run, each notebook in a kernel
of its own; each submission's reference is the chapter of its file name unless ``--reference``
names one for all of them. The command ends with one verdict line per submission
(``PASSED path`` or ``FAILED path: cells ...``). The exit status is 0 when every submission
passes, 1 when one fails, and pytest's own status when pytest could not grade at all.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from course_tools.grading_outcomes import OUTCOMES_ENV
from course_tools.notebooks import (
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


@dataclass(frozen=True)
class Verdict:
    """The grade of one submission."""

    submission: Path
    passed: bool
    failed_cells: tuple[int, ...] = ()

    def __str__(self) -> str:
        if self.passed:
            return f"PASSED {self.submission}"
        cells = ", ".join(str(c) for c in self.failed_cells) or "the notebook could not be run"
        return f"FAILED {self.submission}: cells {cells} (numbered among the code cells from 0)"


def graded_copies(
    submissions: list[Path], reference: Path | None, folder: Path
) -> list[tuple[Path, Path]]:
    """Write the graded copy of every submission into ``folder``: ``folder/NAME`` for one
    submission, ``folder/NNN/NAME`` for several (learners' files often share a name).

    Returns:
        (submission, graded copy) pairs, in the order given.

    Raises:
        SubmissionError: a submission has no matching reference or another number of check cells.
    """
    pairs = []
    for number, submission in enumerate(submissions, start=1):
        chapter = reference or default_reference(submission)
        try:
            graded = graded_copy(read_notebook(submission), read_notebook(chapter))
        except SubmissionError as error:
            raise SubmissionError(f"{submission}: {error}") from None
        subfolder = folder if len(submissions) == 1 else folder / f"{number:03d}"
        target = subfolder / Path(submission).name
        write_notebook_atomic(graded, target)
        pairs.append((Path(submission), target))
    return pairs


def grade(
    submissions: Path | list[Path],
    reference: Path | None = None,
    pytest_args: list[str] | None = None,
    keep: Path | None = None,
) -> int:
    """Run ``pytest --nbval-lax`` once on the graded copies of ``submissions``; print a verdict
    per submission.

    Args:
        submissions: the learners' notebooks (one path or a list).
        reference: the instructor's notebook for all of them (default: for each submission, the
            chapter of ``book/`` with its file name).
        pytest_args: extra arguments for pytest.
        keep: a folder where the graded copies are written and kept (default: a temporary one).

    Returns:
        0 when every submission passed, 1 when one failed, pytest's status if it could not run.
    """
    if isinstance(submissions, str | Path):
        submissions = [Path(submissions)]
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        folder = Path(keep) if keep else Path(tmp)
        pairs = graded_copies(submissions, reference, folder)
        outcomes_file = Path(tmp) / "outcomes.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-current-env",
            "-p",
            "course_tools.grading_outcomes",
            "-p",
            "no:cacheprovider",
            "--color=no",
            "-q",
            "--rootdir",
            str(folder),
            *(pytest_args or []),
            *(str(target) for _, target in pairs),
        ]
        against = f"against {reference}" if reference else "against the chapters of the same name"
        print(f"Grading {len(pairs)} submission(s) {against}", flush=True)
        env = {**os.environ, OUTCOMES_ENV: str(outcomes_file)}
        status = subprocess.call(command, cwd=folder, env=env)
        if status not in (0, 1) or not outcomes_file.is_file():
            return status or 1
        verdicts = _verdicts(pairs, folder, json.loads(outcomes_file.read_text()))
    print()
    for verdict in verdicts:
        print(verdict)
    return 0 if all(v.passed for v in verdicts) else 1


def _verdicts(pairs, folder: Path, outcomes: dict) -> list[Verdict]:
    verdicts = []
    for submission, target in pairs:
        outcome = outcomes.get(target.relative_to(folder).as_posix())
        if outcome is None:  # nothing ran: no verdict can be a pass
            verdicts.append(Verdict(submission, False))
        else:
            cells = tuple(sorted(outcome["failed_cells"]))
            verdicts.append(Verdict(submission, outcome["passed"], cells))
    return verdicts


def main(argv: list[str] | None = None) -> int:
    """Command line: grade one or more submissions."""
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.grade_submission",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("submissions", type=Path, nargs="+", help="the learners' notebooks")
    parser.add_argument(
        "--reference",
        type=Path,
        help="the instructor's notebook for every submission (default: book/<submission's name>)",
    )
    parser.add_argument(
        "--keep", type=Path, help="write the graded copies to this folder and keep them"
    )
    parser.epilog = "Arguments after -- go to pytest."
    argv = sys.argv[1:] if argv is None else list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    extra = argv[split + 1 :]
    try:
        return grade(args.submissions, args.reference, extra, args.keep)
    except (SubmissionError, FileNotFoundError) as error:
        print(f"Cannot grade: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
