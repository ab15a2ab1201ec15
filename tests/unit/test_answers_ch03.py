"""Chapter 3's answer keys are right: each is worked out here by hand, independently of Keras."""

import math

import numpy as np
import pytest

from course_utils.answers.ch03 import ANSWERS
from course_utils.questions import answer_is_right


def conv_parameters(window: int, channels_in: int, filters: int) -> int:
    return (window * window * channels_in + 1) * filters


def test_the_stage4_block_halves_height_and_width_and_outputs_f3_channels():
    assert ANSWERS["3.1"].value() == (None, math.ceil(8 / 2), math.ceil(8 / 2), 1024)


def test_the_stage4_block_has_the_parameters_counted_by_hand():
    main_path = (
        conv_parameters(1, 512, 256) + conv_parameters(3, 256, 256) + conv_parameters(1, 256, 1024)
    )
    shortcut = conv_parameters(1, 512, 1024)
    batch_norms = 4 * (256 + 256 + 1024 + 1024)
    assert ANSWERS["3.2"].value() == main_path + shortcut + batch_norms == 1_520_128


def test_a_strided_1x1_convolution_reads_the_even_positions_of_a_15x15_map():
    read = np.zeros((15, 15), dtype=bool)
    read[::2, ::2] = True
    assert ANSWERS["3.3"].value() == read.sum() == 64


@pytest.mark.parametrize(
    "question, right, wrong",
    [
        ("3.1", (None, 4, 4, 1024), (None, 8, 8, 1024)),
        ("3.2", 1_520_128, 994_816),  # wrong: the shortcut left out
        ("3.3", 64, 56),  # wrong: 225 // 4
    ],
)
def test_the_worked_answer_passes_and_a_wrong_one_fails(question, right, wrong):
    assert answer_is_right(question, right)
    assert not answer_is_right(question, wrong)
