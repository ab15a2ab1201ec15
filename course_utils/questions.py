"""Checks for the "check your understanding" questions at the end of each chapter.

A question whose answer is a number or a shape has a cell `check_answer("3.2", ...)`: the learner
replaces `...` with their answer and runs the cell, which says whether it is right without
revealing it. The answer keys live in `course_utils.answers.chNN` (one module per chapter); a key
may be a value or a function that computes it from the course's reference code.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    """The key of one question.

    expected: the answer, or a function of no arguments that computes it.
    hint: said when the answer is wrong (never the answer itself).
    rel_tol: for numbers, the relative tolerance (answers rounded to 2-3 digits pass).
    """

    expected: Any
    hint: str = ""
    rel_tol: float = 0.01

    def value(self) -> Any:
        return self.expected() if callable(self.expected) else self.expected


def answer_key(question: str) -> Answer:
    """The key of question "N.k" (chapter N, question k), from `course_utils.answers.chNN`."""
    chapter, _, _ = question.partition(".")
    if not chapter.isdigit():
        raise ValueError(f"questions are numbered like '3.2', got {question!r}")
    module = importlib.import_module(f"course_utils.answers.ch{int(chapter):02d}")
    try:
        return module.ANSWERS[question]
    except KeyError:
        raise ValueError(
            f"chapter {int(chapter)} has no question {question!r}; "
            f"its questions are {', '.join(sorted(module.ANSWERS))}"
        ) from None


def matches(answer: Any, expected: Any, rel_tol: float = 0.01) -> bool:
    """Whether a learner's answer equals the key: numbers within `rel_tol`, shapes element by
    element (the batch size may be written None or "m"), text ignoring case and spaces."""
    if isinstance(expected, bool) or isinstance(answer, bool):
        return type(answer) is type(expected) and answer == expected
    if isinstance(expected, int | float):
        if not isinstance(answer, int | float):
            return False
        return math.isclose(answer, expected, rel_tol=rel_tol, abs_tol=1e-12)
    if isinstance(expected, tuple | list):
        if not isinstance(answer, tuple | list) or len(answer) != len(expected):
            return False
        return all(
            _is_batch(a) and _is_batch(e) or matches(a, e, rel_tol)
            for a, e in zip(answer, expected, strict=True)
        )
    if isinstance(expected, str):
        return isinstance(answer, str) and _words(answer) == _words(expected)
    return bool(answer == expected)


def _is_batch(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() == "m")


def _words(text: str) -> str:
    return " ".join(text.lower().split())


def answer_is_right(question: str, answer: Any) -> bool:
    """Whether `answer` to end-of-chapter question `question` (e.g. "3.2") matches its key."""
    key = answer_key(question)
    return answer is not Ellipsis and matches(answer, key.value(), key.rel_tol)


def check_answer(question: str, answer: Any) -> None:
    """Print whether `answer` to end-of-chapter question `question` (e.g. "3.2") is right.

    Returns nothing, so that a notebook cell shows only the sentence. The expected answer is never
    printed.
    """
    key = answer_key(question)
    if answer is Ellipsis:
        print(f"Question {question}: replace ... with your answer, then run this cell again.")
    elif answer_is_right(question, answer):
        print(f"Question {question}: correct.")
    else:
        hint = f" Hint: {key.hint}" if key.hint else ""
        if _lacks_only_the_batch_dimension(answer, key.value(), key.rel_tol):
            hint = (
                " Hint: the sizes are right, but a Keras shape starts with the batch dimension, "
                "written None."
            )
        print(f"Question {question}: not quite ({answer!r}).{hint}")


def _lacks_only_the_batch_dimension(answer: Any, expected: Any, rel_tol: float) -> bool:
    """Whether `answer` is the shape `expected` without its leading batch dimension."""
    return (
        isinstance(expected, tuple | list)
        and len(expected) > 1
        and _is_batch(expected[0])
        and isinstance(answer, tuple | list)
        and matches(tuple(answer), tuple(expected[1:]), rel_tol)
    )
