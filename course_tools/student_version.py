"""Write the student version of the book: the chapters with every solution blanked.

    python -m course_tools.student_version --out student

Every region between ``### START CODE HERE ###`` and ``### END CODE HERE ###`` becomes a
placeholder (``# YOUR CODE HERE`` and ``raise NotImplementedError(...)``); the markers stay, so
learners see where to write. Every other cell is copied unchanged, stored outputs included: the
check cells keep ``All tests passed.``, the output a correct solution gives. Non-notebook pages
and ``images/`` are copied too, so that the chapters display as in the book.

The output folder is written next to its final place and renamed into it, so it is never seen
half-written.
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
import tempfile
from pathlib import Path

from nbformat import NotebookNode

from course_tools.notebooks import (
    BOOK_DIR,
    END_MARKER,
    SOLUTION_KEY,
    START_MARKER,
    cell_source,
    read_notebook,
    write_notebook_atomic,
)

PLACEHOLDER = "# YOUR CODE HERE"
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")


def _enclosing_function(lines: list[str], marker_index: int) -> str | None:
    """The name of the last ``def`` above line ``marker_index`` (None at top level)."""
    for line in reversed(lines[:marker_index]):
        match = _DEF.match(line)
        if match:
            return match.group(1)
    return None


def blank_solutions(source: str, default_name: str | None = None) -> str:
    """``source`` with the body of every START/END CODE HERE region replaced by a placeholder.

    Args:
        source: a code cell's source.
        default_name: the name used in the placeholder's message when a region is not inside
            a ``def``.

    Returns:
        The new source; the marker lines and everything outside the regions are unchanged.

    Raises:
        ValueError: a region is opened and never closed, or closed without being opened.
    """
    lines = source.split("\n")
    out: list[str] = []
    inside = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == START_MARKER:
            if inside:
                raise ValueError(f"line {index + 1}: START CODE HERE inside an open region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            name = _enclosing_function(lines, index) or default_name or "this exercise"
            out += [
                line,
                f"{indent}{PLACEHOLDER}",
                f'{indent}raise NotImplementedError("Write {name}")',
            ]
        elif stripped == END_MARKER:
            if not inside:
                raise ValueError(f"line {index + 1}: END CODE HERE without START CODE HERE")
            inside = False
            out.append(line)
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("a START CODE HERE region is never closed")
    return "\n".join(out)


def student_notebook(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` with its solution regions blanked and its exercise outputs cleared."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = cell_source(cell)
        if START_MARKER not in source:
            continue
        cell.source = blank_solutions(source, cell.metadata.get(SOLUTION_KEY))
        cell.outputs = []
        cell.execution_count = None
    return nb


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
        for path in sorted(book_dir.iterdir()):
            if path.name.startswith((".", "_")) or path.name == "__pycache__":
                continue
            target = staging / path.name
            if path.is_dir():
                shutil.copytree(path, target, ignore=shutil.ignore_patterns(".*", "__pycache__"))
            elif path.suffix == ".ipynb":
                write_notebook_atomic(student_notebook(read_notebook(path)), target)
                written.append(out / path.name)
            else:
                shutil.copy2(path, target)
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
