"""Chapter 2's answer keys are right: each is worked out here by hand, independently of Keras."""

import pytest

from course_utils.answers.ch02 import ANSWERS
from course_utils.questions import answer_is_right


def conv_parameters(window: int, channels_in: int, filters: int) -> int:
    return (window * window * channels_in + 1) * filters


def test_a_stage4_identity_block_has_the_parameters_counted_by_hand():
    convolutions = (
        conv_parameters(1, 1024, 256) + conv_parameters(3, 256, 256) + conv_parameters(1, 256, 1024)
    )
    batch_norms = 4 * (256 + 256 + 1024)
    assert ANSWERS["2.1"].value() == convolutions + batch_norms == 1_121_792


def test_the_first_relu_keeps_height_and_width_and_has_f1_channels():
    assert ANSWERS["2.2"].value() == (None, 8, 8, 128)


@pytest.mark.parametrize(
    "question, right, wrong",
    [
        ("2.1", 1_121_792, 1_115_648),  # wrong: batch normalisation left out
        ("2.2", (None, 8, 8, 128), (None, 8, 8, 512)),
    ],
)
def test_the_worked_answer_passes_and_a_wrong_one_fails(question, right, wrong):
    assert answer_is_right(question, right)
    assert not answer_is_right(question, wrong)


def test_the_batch_size_may_be_written_m():
    assert answer_is_right("2.2", ("m", 8, 8, 128))
