"""Grading puts the instructor's check cells into a submission before nbval compares outputs,
and grades a whole class in one run with a verdict per submission."""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import pytest
from nbformat.v4 import new_code_cell, new_output

from course_tools import grading_outcomes
from course_tools.grade_submission import (
    CHECK_OUTPUT_TAG,
    SubmissionError,
    Verdict,
    default_reference,
    graded_copies,
    graded_copy,
    main,
)
from course_tools.notebooks import (
    BOOK_DIR,
    cell_tags,
    check_cells,
    read_notebook,
    write_notebook_atomic,
)

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


def test_several_submissions_get_a_folder_each_even_with_one_name(reference, tmp_path):
    """Learners' files often share the chapter's name: each graded copy gets a folder of its own."""
    first, second = tmp_path / "ada" / CHAPTER, tmp_path / "bob" / CHAPTER
    for path in (first, second):
        write_notebook_atomic(reference, path)
    pairs = graded_copies([first, second], None, tmp_path / "graded")
    assert pairs == [
        (first, tmp_path / "graded" / "001" / CHAPTER),
        (second, tmp_path / "graded" / "002" / CHAPTER),
    ]
    assert all(target.is_file() for _, target in pairs)
    ((alone, target),) = graded_copies([first], None, tmp_path / "one")
    assert target == tmp_path / "one" / CHAPTER  # one submission: no numbered folder


def test_a_submission_that_cannot_be_matched_is_named(reference, tmp_path):
    good, bad = tmp_path / "ada" / CHAPTER, tmp_path / "bob" / CHAPTER
    write_notebook_atomic(reference, good)
    without_check = copy.deepcopy(reference)
    del without_check.cells[check_cells(without_check)[0][0]]
    write_notebook_atomic(without_check, bad)
    with pytest.raises(SubmissionError, match=f"{bad}: the submission has 0 check cell"):
        graded_copies([good, bad], None, tmp_path / "graded")


def test_verdicts_name_the_submission_and_the_failed_cells(tmp_path):
    assert str(Verdict(tmp_path / "a.ipynb", True)) == f"PASSED {tmp_path / 'a.ipynb'}"
    failed = str(Verdict(tmp_path / "b.ipynb", False, (3, 5)))
    assert failed.startswith(f"FAILED {tmp_path / 'b.ipynb'}: cells 3, 5 ")
    assert "could not be run" in str(Verdict(tmp_path / "c.ipynb", False))


def test_the_outcome_plugin_records_each_notebooks_failed_cells(tmp_path, monkeypatch):
    def report(nodeid, failed, when="call"):
        return SimpleNamespace(nodeid=nodeid, failed=failed, when=when)

    monkeypatch.setattr(grading_outcomes, "_outcomes", {})
    monkeypatch.setenv(grading_outcomes.OUTCOMES_ENV, str(tmp_path / "outcomes.json"))
    for nodeid, failed in [
        ("001/02.ipynb::Cell 0", False),
        ("001/02.ipynb::Cell 3", True),
        ("002/02.ipynb::Cell 0", False),
    ]:
        grading_outcomes.pytest_runtest_logreport(report(nodeid, failed))
    grading_outcomes.pytest_runtest_logreport(report("001/02.ipynb::Cell 3", True, "teardown"))
    grading_outcomes.pytest_collectreport(report("003/02.ipynb", True))
    grading_outcomes.pytest_sessionfinish(None)
    assert json.loads((tmp_path / "outcomes.json").read_text()) == {
        "001/02.ipynb": {"passed": False, "failed_cells": [3]},
        "002/02.ipynb": {"passed": True, "failed_cells": []},
        "003/02.ipynb": {"passed": False, "failed_cells": []},
    }
