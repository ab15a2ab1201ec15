"""Keep the solutions shown in the book identical to the package's reference code.

The package's reference code is the one source of truth. Every exercise cell of a chapter that
defines a function (tag ``exercise``, metadata ``solution_of``) holds the source of the function it
names, exactly as ``inspect.getsource`` returns it: ``identity_block`` names
``course_utils.resnet.identity_block``, ``course_utils.variants:basic_block`` a function of another
module of the package. The source is read from the module's file, so checking needs no
TensorFlow. Exercise cells that only call Keras (compile, fit, evaluate) define no function and
have no reference to match.

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
        module, function = split_reference(self.function)
        return f"{self.notebook}: cell {self.cell_index} differs from {module}.{function}"


DEFAULT_MODULE = "course_utils.resnet"


def split_reference(reference: str) -> tuple[str, str]:
    """``"identity_block"`` -> (course_utils.resnet, identity_block); ``"m:f"`` -> (m, f)."""
    module, _, function = reference.rpartition(":")
    return module or DEFAULT_MODULE, function


def reference_source(reference: str) -> str:
    """The source of the function ``reference`` names (see the module docstring), exactly as
    ``inspect.getsource`` returns it (decorators and all, up to its last line), read from its
    module's file without importing it (found without importing TensorFlow either).

    Raises:
        KeyError: the module has no top-level function of that name.
    """
    module, function = split_reference(reference)
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise KeyError(f"no module {module!r}")
    text = Path(spec.origin).read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            lines = text.splitlines(keepends=True)[first - 1 : node.end_lineno]
            return "".join(lines)
    raise KeyError(f"{module} has no function {function!r}")


def defines_function(cell) -> bool:
    """Whether an exercise cell defines a function (and so must match a reference)."""
    try:
        tree = ast.parse(cell_source(cell))
    except SyntaxError:
        return True
    return any(isinstance(node, ast.FunctionDef) for node in tree.body)


def find_drift(notebooks: list[Path]) -> list[Drift]:
    """Every exercise cell of ``notebooks`` whose source is not its reference function's."""
    drifted = []
    for path in notebooks:
        nb = read_notebook(path)
        for index, cell in exercise_cells(nb):
            function = cell.metadata.get(SOLUTION_KEY)
            if not function and not defines_function(cell):
                continue
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
            if not function and not defines_function(cell):
                continue
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
        print(f"All exercise cells of {len(notebooks)} notebook(s) match their references.")
        return 0

    changed = sync(notebooks)
    for drift in changed:
        print(f"rewrote {drift.notebook}: cell {drift.cell_index} ({drift.function})")
    if changed:
        print("Re-execute the changed chapters so that their stored outputs match.")
    else:
        print("Nothing to do: every exercise cell matches the package's reference code.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
