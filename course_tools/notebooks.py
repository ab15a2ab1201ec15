"""Reading, finding and writing the book's notebooks, shared by the solution, student and grading
tools.

The chapters mark their cells with metadata that these tools rely on:

* an exercise cell has the tag ``exercise`` and ``"solution_of": "<function>"`` in its metadata;
  its source is the function it names, verbatim: a function of :mod:`course_utils.resnet`, or
  ``module:function`` for another module of the package (``course_utils.variants:basic_block``);
* a check cell has the tag ``check`` and calls a grader of :mod:`course_utils.grading`; its stored
  output (``All tests passed.``) is the expected output that ``pytest --nbval`` compares with.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path

import nbformat
import yaml
from nbformat import NotebookNode

from course_utils.atomic_files import write_text_atomic
from course_utils.data.paths import PROJECT_ROOT

BOOK_DIR = PROJECT_ROOT / "book"

EXERCISE_TAG = "exercise"
CHECK_TAG = "check"
SOLUTION_KEY = "solution_of"
START_MARKER = "### START CODE HERE ###"
END_MARKER = "### END CODE HERE ###"
# The file of saved functions (course_utils.my_code.MY_CODE_FILE) that passing checks write beside
# the chapters, written here so that the tools do not import Keras.
SAVED_CODE_FILE = "my_resnet.py"
# The weights of the learner's trained model (course_utils.my_code.MY_WEIGHTS_FILE), saved beside
# it by chapter 5.
SAVED_WEIGHTS_FILE = "my_resnet.weights.h5"


def chapter_notebooks(book_dir: Path = BOOK_DIR) -> list[Path]:
    """The chapter notebooks of the book, in file-name (= reading) order."""
    return sorted(Path(book_dir).glob("[0-9][0-9]_*.ipynb"))


def toc_pages(project_root: Path = PROJECT_ROOT) -> list[str]:
    """The book's pages in reading order (``book/intro``, ``book/01_data``, ...), from _toc.yml:
    its root, then the chapters of every part (and their sections)."""
    toc = yaml.safe_load((project_root / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return [posixpath.splitext(page)[0] for page in pages]


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook as nbformat v4."""
    return nbformat.read(str(path), as_version=4)


def write_notebook_atomic(nb: NotebookNode, path: Path) -> None:
    """Write ``nb`` to ``path`` atomically: a reader (a running Jupyter server, a test) never sees
    a half-written notebook."""
    write_text_atomic(nbformat.writes(nb) + "\n", path)


def cell_tags(cell: NotebookNode) -> list[str]:
    """The tags of a cell (an empty list when it has none)."""
    return list(cell.get("metadata", {}).get("tags", []))


def exercise_cells(nb: NotebookNode) -> Iterator[tuple[int, NotebookNode]]:
    """(index, cell) of every exercise cell, in notebook order."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and EXERCISE_TAG in cell_tags(cell):
            yield index, cell


def check_cells(nb: NotebookNode) -> list[tuple[int, NotebookNode]]:
    """(index, cell) of every check cell, in notebook order."""
    return [
        (index, cell)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and CHECK_TAG in cell_tags(cell)
    ]


def cell_source(cell: NotebookNode) -> str:
    """A cell's source as one string (nbformat may hold it as a list of lines)."""
    source = cell.source
    return "".join(source) if isinstance(source, list) else source
