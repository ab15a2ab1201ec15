"""Grading puts the instructor's check cells into a submission before nbval compares outputs."""

from __future__ import annotations

import copy

import pytest
from nbformat.v4 import new_code_cell, new_output

from course_utils.grade_submission import (
    CHECK_OUTPUT_TAG,
    SubmissionError,
    default_reference,
    graded_copy,
    main,
)
from course_utils.notebook_tools import BOOK_DIR, cell_tags, check_cells, read_notebook

CHAPTER = "02_identity_block.ipynb"


@pytest.fixture
def reference():
    return read_notebook(BOOK_DIR / CHAPTER)


def test_the_check_cells_get_the_instructors_source_output_and_the_check_tag(reference):
    submission = copy.deepcopy(reference)
    ((_, check),) = check_cells(submission)
    check.source = 'print("All tests passed.")  # edited by the learner'
    check.outputs = [new_output("stream", name="stdout", text="Wrong block: no shortcut.\n")]
    check.metadata["tags"] = ["check", "nbval-skip"]

    graded = graded_copy(submission, reference)
    ((_, expected),) = check_cells(reference)
    ((_, result),) = check_cells(graded)
    assert result.source == expected.source
    assert result.outputs == expected.outputs
    assert cell_tags(result) == [*cell_tags(expected), CHECK_OUTPUT_TAG]
    assert check.source.endswith("by the learner")  # the submission itself is untouched


def test_tags_that_excuse_a_cell_from_grading_are_removed(reference):
    submission = copy.deepcopy(reference)
    for cell in submission.cells:
        if cell.cell_type == "code":
            cell.metadata["tags"] = [*cell_tags(cell), "raises-exception", "nbval-skip"]
    graded = graded_copy(submission, reference)
    for cell in graded.cells:
        assert not {"raises-exception", "nbval-skip"} & set(cell_tags(cell))


def test_the_learners_other_cells_are_kept(reference):
    submission = copy.deepcopy(reference)
    submission.cells.insert(3, new_code_cell("scratch = 1 + 1"))
    graded = graded_copy(submission, reference)
    assert graded.cells[3].source == "scratch = 1 + 1"
    assert len(graded.cells) == len(reference.cells) + 1


def test_a_deleted_check_cell_is_reported(reference):
    submission = copy.deepcopy(reference)
    index, _ = check_cells(submission)[0]
    del submission.cells[index]
    with pytest.raises(SubmissionError, match="0 check cell"):
        graded_copy(submission, reference)


def test_the_reference_is_the_chapter_of_the_same_name(tmp_path):
    assert default_reference(tmp_path / CHAPTER) == BOOK_DIR / CHAPTER
    with pytest.raises(SubmissionError, match="--reference"):
        default_reference(tmp_path / "my_homework.ipynb")


def test_an_unmatched_submission_exits_2(tmp_path, capsys):
    (tmp_path / "my_homework.ipynb").write_text("{}")
    assert main([str(tmp_path / "my_homework.ipynb")]) == 2
    assert "pass --reference" in capsys.readouterr().err
