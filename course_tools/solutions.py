"""Keep the solutions shown in the book identical to the package's reference code.

:mod:`course_utils.resnet` is the one source of truth. Every exercise cell of a chapter (tag
``exercise``, metadata ``solution_of``) holds the source of the function it names, exactly as
``inspect.getsource`` returns it. The source is read from ``resnet.py`` itself, so checking needs
no TensorFlow.

    python -m course_tools.solutions check   # exit 1 and list every cell that drifted
    python -m course_tools.solutions sync    # rewrite the exercise cells from the package

After a sync that changed a cell, re-execute the chapter so that its stored outputs come from the
new code.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from course_tools.notebooks import (
    BOOK_DIR,
    SOLUTION_KEY,
    cell_source,
    chapter_notebooks,
    exercise_cells,
    read_notebook,
    write_notebook_atomic,
)


@dataclass(frozen=True)
class Drift:
    """An exercise cell whose source differs from the package's function."""

    notebook: Path
    cell_index: int
    function: str

    def __str__(self) -> str:
        return (
            f"{self.notebook}: cell {self.cell_index} differs from "
            f"course_utils.resnet.{self.function}"
        )


# Found without importing it (and TensorFlow with it).
REFERENCE_FILE = Path(importlib.util.find_spec("course_utils.resnet").origin)


def reference_source(function: str) -> str:
    """The source of ``course_utils.resnet.<function>``, exactly as ``inspect.getsource`` returns
    it (decorators and all, up to its last line), read from the file without importing it.

    Raises:
        KeyError: the module has no top-level function of that name.
    """
    text = REFERENCE_FILE.read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            lines = text.splitlines(keepends=True)[first - 1 : node.end_lineno]
            return "".join(lines)
    raise KeyError(f"course_utils.resnet has no function {function!r}")


def find_drift(notebooks: list[Path]) -> list[Drift]:
    """Every exercise cell of ``notebooks`` whose source is not its reference function's."""
    drifted = []
    for path in notebooks:
        nb = read_notebook(path)
        for index, cell in exercise_cells(nb):
            function = cell.metadata.get(SOLUTION_KEY)
            if not function or cell_source(cell) != reference_source(function):
                drifted.append(Drift(path, index, function or "<no solution_of>"))
    return drifted


def sync(notebooks: list[Path]) -> list[Drift]:
    """Rewrite every drifted exercise cell from the package; return the cells it changed."""
    changed = []
    for path in notebooks:
        nb = read_notebook(path)
        touched = False
        for index, cell in exercise_cells(nb):
            function = cell.metadata.get(SOLUTION_KEY)
            if not function:
                raise KeyError(f"{path}: exercise cell {index} has no {SOLUTION_KEY!r} metadata")
            source = reference_source(function)
            if cell_source(cell) != source:
                cell.source = source
                touched = True
                changed.append(Drift(path, index, function))
        if touched:
            write_notebook_atomic(nb, path)
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command line: ``check`` or ``sync`` the chapters' exercise cells."""
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.solutions",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["check", "sync"])
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="notebooks to process (default: every chapter of book/)",
    )
    parser.add_argument(
        "--book-dir",
        type=Path,
        default=BOOK_DIR,
        help="folder of the chapters (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    notebooks = args.notebooks or chapter_notebooks(args.book_dir)

    if args.command == "check":
        drifted = find_drift(notebooks)
        for drift in drifted:
            print(drift)
        if drifted:
            print(
                f"{len(drifted)} exercise cell(s) differ from the package; "
                "run: python -m course_tools.solutions sync"
            )
            return 1
        print(f"All exercise cells of {len(notebooks)} notebook(s) match course_utils.resnet.")
        return 0

    changed = sync(notebooks)
    for drift in changed:
        print(f"rewrote {drift.notebook}: cell {drift.cell_index} ({drift.function})")
    if changed:
        print("Re-execute the changed chapters so that their stored outputs match.")
    else:
        print("Nothing to do: every exercise cell matches course_utils.resnet.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
