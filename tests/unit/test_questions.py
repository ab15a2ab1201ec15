"""The end-of-chapter answer checks (`course_utils.questions`): what counts as the right answer,
and what the learner is told, never the answer itself."""

from __future__ import annotations

import sys
import types

import pytest

from course_utils.questions import Answer, answer_is_right, answer_key, check_answer, matches

PLACEHOLDER = "Question 99.1: replace ... with your answer, then run this cell again.\n"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (23_600_006, 23_600_006),
        (3.0, 3),
        (0.167, 1 / 6),  # rounded to three digits
        ((None, 8, 8, 256), (None, 8, 8, 256)),
        (("m", 8, 8, 256), (None, 8, 8, 256)),
        ([None, 6], (None, 6)),
        ((1080, 6), [1080, 6]),
        ("Batch  Normalization", "batch normalization"),
        (True, True),
    ],
)
def test_answers_that_match(answer, expected):
    assert matches(answer, expected)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (23_600_000, 23_600_006.0 * 1.02),
        (0.2, 1 / 6),
        ("6", 6),
        ((8, 8, 8, 256), (None, 8, 8, 256)),  # a number for the batch size
        ((None, 8, 8), (None, 8, 8, 256)),
        ((None, 4, 4, 256), (None, 8, 8, 256)),
        (6, (None, 6)),
        ("batch normalisation", "batch normalization"),
        (1, True),  # a bool is not a number here
        (True, 1),
        (False, True),
    ],
)
def test_answers_that_do_not_match(answer, expected):
    assert not matches(answer, expected)


def test_the_tolerance_is_relative_and_can_be_set():
    assert matches(101, 100) and not matches(102, 100)
    assert matches(105, 100, rel_tol=0.05) and not matches(106, 100, rel_tol=0.05)


@pytest.fixture
def chapter_99(monkeypatch):
    """A chapter 99 whose key holds 99.1 (a value) and 99.2 (computed, counting its calls)."""
    computed = []

    def count_parameters():
        computed.append(1)
        return 4_736

    module = types.ModuleType("course_utils.answers.ch99")
    module.ANSWERS = {
        "99.1": Answer(expected=42, hint="count the blocks of each stage"),
        "99.2": Answer(expected=count_parameters),
    }
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return computed


def test_a_right_answer_is_said_correct(chapter_99, capsys):
    assert check_answer("99.1", 42) is None  # a cell shows only the sentence
    assert capsys.readouterr().out == "Question 99.1: correct.\n"
    assert answer_is_right("99.1", 42)


def test_a_wrong_answer_gets_the_hint_never_the_answer(chapter_99, capsys):
    check_answer("99.1", 41)
    assert not answer_is_right("99.1", 41)
    said = capsys.readouterr().out
    assert said == "Question 99.1: not quite (41). Hint: count the blocks of each stage\n"
    assert "42" not in said


def test_a_wrong_answer_without_a_hint_says_only_that(chapter_99, capsys):
    check_answer("99.2", 4_000)
    assert capsys.readouterr().out == "Question 99.2: not quite (4000).\n"


def test_the_ellipsis_asks_for_an_answer_and_computes_nothing(chapter_99, capsys):
    check_answer("99.1", ...)
    check_answer("99.2", ...)
    assert not answer_is_right("99.1", ...)
    said = capsys.readouterr().out
    assert said == PLACEHOLDER + PLACEHOLDER.replace("99.1", "99.2")
    assert chapter_99 == []  # the computed key was not needed


def test_a_computed_key_is_computed_when_checked(chapter_99, capsys):
    check_answer("99.2", 4_736)
    assert capsys.readouterr().out == "Question 99.2: correct.\n"
    assert chapter_99 == [1]


def test_an_unknown_question_names_the_chapters_questions(chapter_99):
    with pytest.raises(ValueError, match=r"chapter 99 has no question '99\.7'.*99\.1, 99\.2"):
        check_answer("99.7", 1)


@pytest.mark.parametrize("question", ["one.1", "", "Q2"])
def test_a_question_not_numbered_like_3_2_is_refused(question):
    with pytest.raises(ValueError, match="questions are numbered like '3.2'"):
        answer_key(question)


def test_a_shape_missing_only_its_batch_dimension_is_told_so(capsys):
    """Question 2.2's key is (None, 8, 8, 128): (8, 8, 128) has the right sizes, no batch."""
    check_answer("2.2", (8, 8, 128))
    said = capsys.readouterr().out
    assert "starts with the batch dimension, written None" in said and "stride" not in said
    check_answer("2.2", (8, 8, 512))  # a wrong size gets the question's own hint
    assert "stride 1" in capsys.readouterr().out
    check_answer("2.2", (None, 8, 8))  # a shape one element short is not a missing batch
    assert "batch dimension" not in capsys.readouterr().out
