"""Write the student version of the book: nbgrader's student version of every chapter with
exercises, and the other chapters as they are.

    python -m course_tools.student_version --out student

The chapters with exercises go through ``nbgrader generate_assignment`` (see
`course_tools.classroom`): every region between ``### START CODE HERE ###`` and
``### END CODE HERE ###`` becomes ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` between
the same markers, and every stored output is cleared, so that no check shows a result the learner
has not earned. The other pages and ``images/`` are copied unchanged. The output folder is written
next to its final place and renamed into it, so it is never seen half-written.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from course_tools import classroom
from course_tools.notebooks import BOOK_DIR


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
            if path.name.startswith((".", "_")) or path.name == "__pycache__":
                continue
            target = staging / path.name
            if path.is_dir():
                shutil.copytree(path, target, ignore=shutil.ignore_patterns(".*", "__pycache__"))
                continue
            if path in graded:
                path = course / "release" / classroom.assignment_name(path) / path.name
            shutil.copy2(path, target)
            if path.suffix == ".ipynb":
                written.append(out / target.name)
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
