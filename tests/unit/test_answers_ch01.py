"""Chapter 1's answer keys are right: each is worked out here independently of the key."""

import pytest

from course_utils.answers.ch01 import ANSWERS
from course_utils.questions import answer_is_right, check_answer


def test_holding_out_40_signers_leaves_840_images_to_train_on():
    assert ANSWERS["1.1"].value() == 1080 - 40 * 6 == 840


def test_the_validation_targets_are_180_rows_of_6():
    assert ANSWERS["1.2"].value() == (180, 6)


def test_missing_every_image_of_one_digit_scores_five_sixths_of_the_balanced_test_set():
    assert ANSWERS["1.3"].value() == pytest.approx(100 / 120)


@pytest.mark.parametrize(
    "question, right, wrong",
    [("1.1", 840, 900), ("1.2", (180, 6), (6, 180)), ("1.3", 0.833, 0.167)],
)
def test_the_worked_answer_passes_and_a_wrong_one_fails(question, right, wrong, capsys):
    assert answer_is_right(question, right)
    assert not answer_is_right(question, wrong)
    check_answer(question, right)
    assert "correct" in capsys.readouterr().out


def test_a_two_digit_fraction_passes_for_the_one_digit_mistake():
    assert answer_is_right("1.3", 0.83)
