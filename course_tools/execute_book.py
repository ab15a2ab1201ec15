"""Execute the book's chapters and store their outputs: what the rendered book shows and what
``pytest --nbval`` compares with.

    python -m course_tools.execute_book                 # every chapter of book/
    python -m course_tools.execute_book book/02_identity_block.ipynb

Each notebook runs top to bottom in a fresh kernel, in its own folder, with TensorFlow's C++
notices silenced; the executed notebook replaces the original atomically, so an interrupted or
failing run leaves the chapter as it was. Run it after changing a chapter or the course_utils code
it uses.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from course_tools.notebooks import (
    BOOK_DIR,
    chapter_notebooks,
    read_notebook,
    write_notebook_atomic,
)
from course_tools.terminal_text import settle_streams

CELL_TIMEOUT_S = 1800


def execute_notebook(path: Path, kernel_name: str = "python3") -> float:
    """Run ``path`` in a fresh kernel and store its outputs in place; return the seconds taken.

    Raises:
        CellExecutionError: a cell raised; the notebook on disk is unchanged.
    """
    path = Path(path)
    nb = read_notebook(path)
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - started
    settle_streams(nb)
    write_notebook_atomic(nb, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    """Command line: execute the given notebooks (default: every chapter)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.execute_book",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    args = parser.parse_args(argv)
    for path in args.notebooks or chapter_notebooks(BOOK_DIR):
        print(f"executing {path} ...", flush=True)
        try:
            seconds = execute_notebook(path)
        except CellExecutionError as error:
            print(f"{path} failed, left unchanged:\n{error}", file=sys.stderr)
            return 1
        print(f"  stored its outputs ({seconds:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
