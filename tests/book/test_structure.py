"""The book's pages are complete, tagged for nbval and graded, and their stored outputs are real."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from course_tools.notebooks import (
    BOOK_DIR,
    SOLUTION_KEY,
    cell_source,
    cell_tags,
    chapter_notebooks,
    check_cells,
    exercise_cells,
    read_notebook,
    toc_pages,
)
from course_utils.data.paths import PROJECT_ROOT

CHAPTERS = [
    "01_data.ipynb",
    "02_identity_block.ipynb",
    "03_convolutional_block.ipynb",
    "04_resnet50.ipynb",
    "05_training.ipynb",
    "06_evaluation.ipynb",
    "07_what_the_network_looks_at.ipynb",
    "08_why_skip_connections.ipynb",
    "09_variants.ipynb",
    "10_training_at_scale.ipynb",
]
EXERCISES = {
    "02_identity_block.ipynb": ("identity_block", "check_identity_block"),
    "03_convolutional_block.ipynb": ("convolutional_block", "check_convolutional_block"),
    "04_resnet50.ipynb": ("ResNet50", "check_resnet50"),
}
IGNORE = "nbval-ignore-output"


def _notebook(name: str):
    return read_notebook(BOOK_DIR / name)


def _text_outputs(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


def test_table_of_contents_lists_the_intro_and_every_chapter_in_order():
    toc = yaml.safe_load((PROJECT_ROOT / "_toc.yml").read_text())
    assert toc["format"] == "jb-book"
    assert toc["root"] == "book/intro"
    assert toc_pages() == ["book/intro"] + [f"book/{Path(name).stem}" for name in CHAPTERS]
    assert [part["caption"] for part in toc["parts"]] == ["The course", "Optional"]
    assert toc["parts"][1]["chapters"] == [{"file": "book/10_training_at_scale"}]
    assert [path.name for path in chapter_notebooks()] == CHAPTERS
    assert (BOOK_DIR / "intro.md").is_file()


SETUP_START = """import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # silence TensorFlow's C++ start-up notices
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import course_utils.quiet_start  # starts TensorFlow without its start-up notices
"""


@pytest.mark.parametrize("name", CHAPTERS)
def test_first_code_cell_quiets_tensorflow_before_importing_it_and_is_not_compared(name):
    nb = _notebook(name)
    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    # Nothing before course_utils.quiet_start imports TensorFlow or Keras.
    assert cell_source(first).startswith(SETUP_START)
    assert {IGNORE, "remove-stderr"} <= set(cell_tags(first))
    # No other cell imports TensorFlow or Keras before the environment is set.
    for cell in nb.cells:
        if cell.cell_type == "code" and cell is not first:
            assert "import tensorflow" not in cell_source(cell)


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_opens_with_learning_objectives_and_has_a_summary(name):
    """What follows the summary (questions, further reading): tests/book/test_learner_pages.py."""
    nb = _notebook(name)
    markdown = [cell_source(c) for c in nb.cells if c.cell_type == "markdown"]
    assert markdown[0].startswith("# ")
    assert "**Learning objectives.**" in markdown[0]
    assert any(re.search(r"^## Summary$", text, re.M) for text in markdown)


@pytest.mark.parametrize("name", CHAPTERS)
def test_figures_have_alt_text_and_exist(name):
    nb = _notebook(name)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for alt, target in re.findall(r"!\[([^\]]*)\]\(([^)]+)\)", cell_source(cell)):
            assert len(alt.strip()) > 40, f"{name}: image {target} needs a descriptive alt text"
            assert (BOOK_DIR / target).is_file(), target


@pytest.mark.parametrize("name", CHAPTERS)
def test_image_outputs_have_alt_text_in_the_book(name):
    for cell in _notebook(name).cells:
        if any("image/png" in output.get("data", {}) for output in cell.get("outputs", [])):
            alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
            assert len(alt) > 40, cell_source(cell)


@pytest.mark.parametrize("name", CHAPTERS)
def test_stored_outputs_come_from_one_clean_run(name):
    nb = _notebook(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        for output in cell.outputs:
            assert output.output_type != "error", cell_source(cell)
            if IGNORE not in cell_tags(cell) and output.output_type == "stream":
                assert output.name == "stdout", f"stderr in a compared cell: {output.text!r}"


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_each_exercise_is_tagged_and_followed_by_its_check(name):
    function, checker = EXERCISES[name]
    nb = _notebook(name)
    exercises = list(exercise_cells(nb))
    checks = check_cells(nb)
    assert [cell.metadata[SOLUTION_KEY] for _, cell in exercises] == [function]
    assert len(checks) == 1
    (exercise_index, _), (check_index, check) = exercises[0], checks[0]
    assert check_index > exercise_index
    # It imports its own grader and asserts its verdict, with a message for the traceback (which
    # nbgrader's feedback shows); once passed, it may save the function for later chapters
    # (course_utils.my_code).
    lines = [line.rstrip(";") for line in cell_source(check).splitlines() if line.strip()]
    verdict = f'assert {checker}({function}), "see the reason above"'
    save = f"save_my_function({function})"
    assert lines[0] == f"from course_utils.grading import {checker}"
    assert verdict in lines
    assert set(lines) <= {
        lines[0], "from course_utils.my_code import save_my_function", verdict, save
    }  # fmt: skip
    if save in lines:
        assert lines.index(save) > lines.index(verdict)
    # The check's output is compared: never ignored or skipped.
    assert not {IGNORE, "nbval-skip", "raises-exception"} & set(cell_tags(check))
    # Only what the grader and save_my_function print: a last line `save_my_function(f);` ends
    # with a semicolon, so that its returned True is not shown as the cell's result.
    saved = f"Saved your {function} to my_resnet.py; the next chapters use it.\n"
    assert _text_outputs(check) == "All tests passed.\n" + (saved if save in lines else "")


def test_data_chapter_prints_the_shapes_of_the_prepared_arrays():
    nb = _notebook("01_data.ipynb")
    text = "\n".join(_text_outputs(c) for c in nb.cells if c.cell_type == "code")
    for line in [
        "X_train shape: (1080, 64, 64, 3)",
        "Y_train shape: (1080, 6)",
        "X_test shape: (120, 64, 64, 3)",
        "Y_test shape: (120, 6)",
    ]:
        assert line in text


def test_resnet50_chapter_prints_the_parameter_counts_and_compares_them():
    nb = _notebook("04_resnet50.ipynb")
    cells = [
        c
        for c in nb.cells
        if c.cell_type == "code"
        and IGNORE not in cell_tags(c)
        and "Total params" in _text_outputs(c)
    ]
    assert len(cells) == 1
    text = _text_outputs(cells[0])
    assert re.search(r"Total params:\s+23,600,006", text)
    assert re.search(r"Trainable params:\s+23,546,886", text)
    assert re.search(r"Non-trainable params:\s+53,120", text)


def _layers_found_by_a_written_name(source: str) -> list[str]:
    """The ``model.get_layer("...")`` calls of ``source``: a layer of the learner's ``model``
    looked up by a name written in the chapter."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get_layer"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "model"
            and node.args
            and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
        ):
            found.append(ast.unparse(node))
    return found


@pytest.mark.parametrize("name", CHAPTERS[3:])
def test_no_cell_finds_a_layer_of_the_learners_model_by_a_written_name(name):
    """The checks compare layers and outputs, not names: a learner's blocks may name their layers
    otherwise, and the cells after the checks must still run."""
    nb = _notebook(name)
    found = [
        call
        for cell in nb.cells
        if cell.cell_type == "code" and "exercise" not in cell_tags(cell)
        for call in _layers_found_by_a_written_name(cell_source(cell))
    ]
    assert not found, found
