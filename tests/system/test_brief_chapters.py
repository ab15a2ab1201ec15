"""Brief training through papermill's parameters (`course_tools.brief_chapters`): the chapters that
train declare their length in a ``parameters`` cell and their training cells use it; a copy of the
book gets the injected values after that cell, keeps every stored output, and a kernel that runs it
trains as briefly as injected; a name no chapter declares is refused and nothing is written."""

from __future__ import annotations

import ast
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from course_tools import brief_chapters
from course_tools.notebooks import (
    BOOK_DIR,
    SAVED_CODE_FILE,
    SAVED_WEIGHTS_FILE,
    cell_source,
    cell_tags,
    read_notebook,
)

TRAINING_CHAPTERS = ["05_training.ipynb", "06_evaluation.ipynb", "09_variants.ipynb"]
LEARNER_FILES = (SAVED_CODE_FILE, SAVED_WEIGHTS_FILE)  # what a learner's run writes beside them


def assigned_names(source: str) -> set[str]:
    return {
        target.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


TRAINING_CALLS = {"fit", "train_briefly", "fix_and_train", "fine_tune"}


def called_names(source: str) -> set[str]:
    """The names of the functions and methods the source calls (``model.fit(...)``: fit)."""
    calls = [node.func for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)]
    return {getattr(func, "attr", getattr(func, "id", None)) for func in calls}


def defines_functions_only(source: str) -> bool:
    return all(isinstance(node, ast.FunctionDef) for node in ast.parse(source).body)


def used_names(source: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}


@pytest.mark.parametrize("name", TRAINING_CHAPTERS)
def test_a_chapter_that_trains_declares_its_length_and_its_training_uses_it(name):
    nb = read_notebook(BOOK_DIR / name)
    parameters = [cell for cell in nb.cells if "parameters" in cell_tags(cell)]
    assert len(parameters) == 1
    assert assigned_names(cell_source(parameters[0])) == set(brief_chapters.BRIEF)
    later = nb.cells[nb.cells.index(parameters[0]) + 1 :]
    # The cells that train: calls of fit or of a function that fits, not their definitions.
    training = [
        c
        for c in later
        if c.cell_type == "code"
        and called_names(cell_source(c)) & TRAINING_CALLS
        and not defines_functions_only(cell_source(c))
    ]
    assert training
    for cell in training:
        assert set(brief_chapters.BRIEF) <= used_names(cell_source(cell))


def test_only_the_chapters_that_train_declare_parameters():
    declaring = [
        path.name
        for path in sorted(BOOK_DIR.glob("*.ipynb"))
        if brief_chapters.declared_parameters(path)
    ]
    assert declaring == TRAINING_CHAPTERS


@pytest.fixture(scope="module")
def brief_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("brief") / "book"
    book = tmp_path_factory.mktemp("source") / "book"
    shutil.copytree(BOOK_DIR, book, ignore=shutil.ignore_patterns(*LEARNER_FILES))
    (book / SAVED_CODE_FILE).write_text("# a learner's saved code\n")
    (book / SAVED_WEIGHTS_FILE).write_bytes(b"a learner's trained weights")
    injected = brief_chapters.write_brief_book(book, out)
    return book, out, injected


def test_the_copy_injects_the_values_after_the_parameters_cell_and_keeps_the_outputs(brief_book):
    book, out, injected = brief_book
    assert injected == {name: set(brief_chapters.BRIEF) for name in TRAINING_CHAPTERS}
    for name in TRAINING_CHAPTERS:
        ours, theirs = read_notebook(book / name), read_notebook(out / name)
        at = next(i for i, c in enumerate(ours.cells) if "parameters" in cell_tags(c))
        injected_cell = theirs.cells[at + 1]
        assert "injected-parameters" in cell_tags(injected_cell)
        namespace = {}
        exec(cell_source(injected_cell), namespace)
        assert {n: namespace[n] for n in brief_chapters.BRIEF} == brief_chapters.BRIEF
        rest = theirs.cells[: at + 1] + theirs.cells[at + 2 :]
        assert [cell_source(c) for c in rest] == [cell_source(c) for c in ours.cells]
        assert [c.get("outputs") for c in rest] == [c.get("outputs") for c in ours.cells]


def test_the_other_pages_are_copied_as_they_are_and_a_learners_files_are_left_behind(brief_book):
    book, out, _ = brief_book
    for path in book.rglob("*"):
        copied = out / path.relative_to(book)
        if path.name in LEARNER_FILES:
            assert not copied.exists()
        elif path.is_file() and path.name not in TRAINING_CHAPTERS:
            assert copied.read_bytes() == path.read_bytes(), path


def test_a_name_no_chapter_declares_is_refused_and_nothing_is_written(brief_book, tmp_path):
    book, _, _ = brief_book
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.txt").write_text("an earlier copy")
    with pytest.raises(ValueError, match=r"EPOCH: no notebook .* declare: EPOCHS, TRAINING_IMAGES"):
        brief_chapters.write_brief_book(book, out, {"EPOCH": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert [p.name for p in out.iterdir()] == ["kept.txt"]


def test_the_command_refuses_a_value_that_is_not_an_integer(capsys):
    with pytest.raises(SystemExit) as stopped:
        brief_chapters.main(["--out", "x", "EPOCHS=one"])
    assert stopped.value.code == 2
    assert "write NAME=INTEGER, e.g. EPOCHS=1" in capsys.readouterr().err


def test_a_kernel_that_runs_the_copy_trains_for_the_injected_length(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("EPOCHS = 5\nTRAINING_IMAGES = 900"),
        nbformat.v4.new_code_cell("print(EPOCHS, TRAINING_IMAGES)"),
    ]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "language": "python",
        "display_name": "Python 3",
    }
    nbformat.write(nb, tmp_path / "chapter.ipynb")
    brief_chapters.inject(tmp_path / "chapter.ipynb", tmp_path / "brief.ipynb", {"EPOCHS": 1})
    brief = nbformat.read(tmp_path / "brief.ipynb", as_version=4)
    NotebookClient(brief, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert brief.cells[-1].outputs[0]["text"] == "1 900\n"
