"""A check shows what the learner's function printed on its first call, before the verdict, and
hides the rest: the function's later calls, and what goes to standard error (Keras's warnings)."""

from __future__ import annotations

import inspect

import pytest
from learner_code import define, edit, grade

from course_utils import resnet
from course_utils.grading.harness import PASSED, SHOWN_LINES, call_learner, report

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

FIRST_LINE = "    X_shortcut = X\n"


def identity_block_that_runs(*lines: str):
    """The reference identity_block with ``lines`` run first in its body, as a learner's."""
    source = inspect.getsource(resnet.identity_block)
    inserted = "".join(f"    {line}\n" for line in lines)
    return define(edit(source, [(FIRST_LINE, inserted + FIRST_LINE)]), "identity_block")


def test_a_passing_function_that_prints_shows_its_first_call_then_the_verdict():
    learner = identity_block_that_runs('print("X has shape", tuple(X.shape[1:]))')
    passed, printed = grade("identity_block", learner)
    assert passed
    lines = printed.splitlines()
    assert lines[0] == "Your function printed:"
    assert lines[1].startswith("    X has shape (")
    assert lines[2:] == [PASSED]  # the later calls print nothing


def test_a_failing_function_that_prints_shows_it_before_the_hint():
    learner = identity_block_that_runs('print("debugging", f)', "X = X[:, 1:]")
    passed, printed = grade("identity_block", learner)
    assert not passed
    assert printed.startswith("Your function printed:\n    debugging 3\nTest failed: ")
    assert printed.count("debugging") == 1


def test_a_function_that_prints_then_raises_shows_both():
    learner = identity_block_that_runs('print("about to fail")', "raise ValueError('my bug')")
    passed, printed = grade("identity_block", learner)
    assert not passed
    assert printed.startswith("Your function printed:\n    about to fail\nTest failed: ")
    assert "my bug" in printed


def test_what_goes_to_standard_error_stays_hidden(capsys):
    learner = identity_block_that_runs('import sys; sys.stderr.write("a Keras warning\\n")')
    passed, printed = grade("identity_block", learner)
    assert passed and printed == f"{PASSED}\n"
    assert "Keras warning" not in capsys.readouterr().err


def test_a_function_that_prints_nothing_adds_nothing():
    passed, printed = grade("identity_block", identity_block_that_runs())
    assert passed and printed == f"{PASSED}\n"


def test_long_output_is_cut_saying_how_much(capsys):
    def chatty():
        for line in range(SHOWN_LINES + 5):
            print("line", line)

    assert report(lambda: call_learner(chatty, what="chatty", signature="chatty()"))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Your function printed:"
    assert lines[SHOWN_LINES] == f"    line {SHOWN_LINES - 1}"
    assert lines[SHOWN_LINES + 1 :] == ["    ... (5 more lines)", PASSED]


def test_outside_a_check_nothing_is_shown(capsys):
    assert call_learner(lambda: print("hidden") or 3, what="f", signature="f()") == 3
    assert capsys.readouterr().out == ""
