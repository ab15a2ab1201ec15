"""The solutions shown in the book are the package's reference code, and drift is caught."""

from __future__ import annotations

import importlib
import inspect
import shutil
import subprocess
import sys

import pytest

from course_tools import solutions
from course_tools.notebooks import (
    BOOK_DIR,
    cell_source,
    chapter_notebooks,
    exercise_cells,
    read_notebook,
    write_notebook_atomic,
)
from course_utils import resnet


def test_every_exercise_cell_is_exactly_the_package_function():
    seen = []
    for path in chapter_notebooks():
        for _, cell in exercise_cells(read_notebook(path)):
            if not solutions.defines_function(cell):
                continue  # compile, fit, evaluate: calls of Keras, no function to match
            module, name = solutions.split_reference(cell.metadata["solution_of"])
            function = getattr(importlib.import_module(module), name)
            assert cell_source(cell) == inspect.getsource(function), path.name
            seen.append(name)
    assert sorted(seen) == [
        "ResNet50",
        "basic_block",
        "convolutional_block",
        "convolutional_block_v1_5",
        "fix_and_train",
        "grad_cam_map",
        "identity_block",
        "preactivation_identity_block",
        "random_mirror",
    ]


def test_check_finds_no_drift_in_the_committed_chapters():
    assert solutions.find_drift(chapter_notebooks()) == []


@pytest.fixture
def drifted_book(tmp_path):
    """A copy of the book whose identity_block solution has been edited by hand."""
    book = tmp_path / "book"
    shutil.copytree(BOOK_DIR, book, ignore=shutil.ignore_patterns("images"))
    path = book / "02_identity_block.ipynb"
    nb = read_notebook(path)
    index, cell = next(exercise_cells(nb))
    cell.source = cell_source(cell).replace("X = layers.Activation", "X = layers.ReLU() #", 1)
    write_notebook_atomic(nb, path)
    return book, path, index


def test_check_command_exits_1_and_names_the_drifted_cell(drifted_book):
    book, path, index = drifted_book
    result = subprocess.run(
        [sys.executable, "-m", "course_tools.solutions", "check", "--book-dir", str(book)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert f"{path}: cell {index} differs from course_utils.resnet.identity_block" in result.stdout
    assert "03_convolutional_block" not in result.stdout


def test_sync_rewrites_only_the_drifted_cell(drifted_book):
    book, path, index = drifted_book
    before = read_notebook(path)
    changed = solutions.sync(chapter_notebooks(book))
    assert [(d.notebook, d.cell_index, d.function) for d in changed] == [
        (path, index, "identity_block")
    ]
    after = read_notebook(path)
    assert cell_source(after.cells[index]) == inspect.getsource(resnet.identity_block)
    for i, (old, new) in enumerate(zip(before.cells, after.cells, strict=True)):
        if i != index:
            assert old == new
    assert solutions.main(["check", "--book-dir", str(book)]) == 0


def test_an_exercise_naming_an_unknown_function_is_an_error(tmp_path):
    path = tmp_path / "02_identity_block.ipynb"
    nb = read_notebook(BOOK_DIR / path.name)
    _, cell = next(exercise_cells(nb))
    cell.metadata["solution_of"] = "no_such_block"
    write_notebook_atomic(nb, path)
    with pytest.raises(KeyError, match="no_such_block"):
        solutions.find_drift([path])
