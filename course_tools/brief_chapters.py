"""Copies of the chapters that train briefly, for the test command and class grading.

    python -m course_tools.brief_chapters --out _build/brief-book           # the book, BRIEF
    python -m course_tools.brief_chapters --out DIR --book student EPOCHS=2  # other values

A chapter that trains for minutes declares how long in a cell tagged ``parameters``, papermill's
convention (chapter 5: ``EPOCHS = 5`` and ``TRAINING_IMAGES = 900``). `inject` writes a copy of
a notebook with papermill's ``injected-parameters`` cell after that cell, through papermill's own
``--prepare-only`` (the notebook is not run; its stored outputs are kept). The kernel that runs
the copy, nbval's or nbgrader's, is an ordinary one: the same Keras, the same code, fewer steps.

Only the names a notebook declares are injected into it; a notebook without a ``parameters`` cell
is copied as it is. A name that no chapter declares is refused, so that a typo cannot leave a
chapter training for an hour.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import papermill

from course_tools.notebooks import BOOK_DIR, SAVED_CODE_FILE, SAVED_WEIGHTS_FILE

# The values the test command and class grading inject: one epoch on 32 images.
BRIEF = {"EPOCHS": 1, "TRAINING_IMAGES": 32}
PARAMETERS_TAG = "parameters"
# Files of a learner's run that a copy of the book must not take along.
NOT_COPIED = (
    SAVED_CODE_FILE, SAVED_WEIGHTS_FILE, ".ipynb_checkpoints", "__pycache__", "checkpoints"
)  # fmt: skip


def declared_parameters(notebook: Path) -> set[str]:
    """The names assigned in the notebook's ``parameters`` cell (empty when it has none)."""
    return set(papermill.inspect_notebook(str(notebook)))


def inject(notebook: Path, target: Path, parameters: dict) -> set[str]:
    """Write ``notebook`` to ``target`` with the values of ``parameters`` that it declares.

    Returns:
        The names injected (empty: the notebook was copied as it is).
    """
    names = declared_parameters(notebook) & set(parameters)
    if not names:
        if Path(target).resolve() != Path(notebook).resolve():
            shutil.copyfile(notebook, target)
        return names
    papermill.execute_notebook(
        str(notebook),
        str(target),
        parameters={name: parameters[name] for name in sorted(names)},
        prepare_only=True,
        progress_bar=False,
        log_output=False,
    )
    return names


def write_brief_book(book: Path, out: Path, parameters: dict = BRIEF) -> dict[str, set[str]]:
    """Copy the folder ``book`` (its notebooks, pages and images) to ``out``, replacing it, with
    ``parameters`` injected into every notebook that declares them. Atomic: the copy is made
    beside ``out`` and renamed into place.

    Returns:
        {notebook name: names injected} for the notebooks that took any.

    Raises:
        ValueError: a name of ``parameters`` is declared by no notebook of ``book``.
    """
    book, out = Path(book), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        copy = staging / "book"
        shutil.copytree(book, copy, ignore=shutil.ignore_patterns(*NOT_COPIED))
        injected = {}
        for notebook in sorted(copy.glob("*.ipynb")):
            names = inject(notebook, notebook, parameters)
            if names:
                injected[notebook.name] = names
        unknown = set(parameters) - set().union(*injected.values())
        if unknown:
            declared = sorted(set().union(*map(declared_parameters, copy.glob("*.ipynb"))))
            raise ValueError(
                f"{', '.join(sorted(unknown))}: no notebook of {book} declares it in a "
                f"'{PARAMETERS_TAG}' cell. The notebooks declare: {', '.join(declared) or 'none'}."
            )
        if out.exists():
            shutil.rmtree(out)
        os.replace(copy, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return injected


def parse_assignment(text: str) -> tuple[str, int]:
    """``NAME=VALUE`` (an integer) as (NAME, VALUE)."""
    name, equals, value = text.partition("=")
    if not equals or not name.isidentifier() or not value.strip().lstrip("-").isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: write NAME=INTEGER, e.g. EPOCHS=1")
    return name, int(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the folder to write (replaced)")
    parser.add_argument("--book", type=Path, default=BOOK_DIR, help="the folder of notebooks")
    parser.add_argument(
        "values",
        nargs="*",
        type=parse_assignment,
        help=f"NAME=INTEGER values to inject (default: {BRIEF})",
    )
    args = parser.parse_args(argv)
    parameters = dict(args.values) or BRIEF
    try:
        injected = write_brief_book(args.book, args.out, parameters)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for name, names in injected.items():
        values = ", ".join(f"{n} = {parameters[n]}" for n in sorted(names))
        print(f"{args.out / name}: {values}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
