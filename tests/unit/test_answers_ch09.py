"""Chapter 9's answer keys are right: each is worked out here independently of the key."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils.answers.ch09 import ANSWERS
from course_utils.questions import answer_is_right, check_answer


def test_the_questions_with_a_number_for_an_answer():
    assert sorted(ANSWERS) == ["9.1", "9.2", "9.3"]


def test_a_basic_block_of_stage_5_has_4_7_million_parameters():
    convolutions = 2 * (3 * 3 * 512 * 512 + 512)
    normalisations = 2 * 4 * 512  # gamma, beta, moving mean and variance of 512 channels
    assert ANSWERS["9.1"].value() == convolutions + normalisations == 4_723_712


def test_the_bottleneck_block_of_stage_5_is_not_much_smaller():
    # The comparison the question leads to: 1x1 (2048 -> 512), 3x3 (512 -> 512), 1x1 (512 ->
    # 2048), and three normalisations, for four times the output channels.
    bottleneck = (2048 * 512 + 512) + (9 * 512 * 512 + 512) + (512 * 2048 + 2048)
    bottleneck += 4 * (512 + 512 + 2048)
    assert bottleneck == 4_471_808
    assert ANSWERS["9.1"].value() / bottleneck == pytest.approx(1.056, abs=1e-3)


def test_a_stride_2_1x1_convolution_reads_64_of_225_positions():
    # Which input positions does the output depend on? Those with a non-zero gradient.
    keras.backend.clear_session()
    conv = keras.layers.Conv2D(1, (1, 1), strides=(2, 2), kernel_initializer="ones")
    x = tf.Variable(np.ones((1, 15, 15, 1), dtype="float32"))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(conv(x))
    read = np.count_nonzero(tape.gradient(total, x).numpy())
    assert ANSWERS["9.2"].value() == read == 64


def test_the_unstrided_1x1_of_v1_5_does_225_over_64_times_the_work():
    # res3a_branch2a: 256 input channels, 128 filters, on stage 2's 15 x 15 map.
    v1 = (8 * 8) * 256 * 128
    v1_5 = (15 * 15) * 256 * 128
    assert ANSWERS["9.3"].value() == pytest.approx(v1_5 / v1) == 225 / 64


@pytest.mark.parametrize(
    "question, right, wrong",
    [("9.1", 4_723_712, 4_471_808), ("9.2", 64, 225), ("9.3", 3.52, 1)],
)
def test_the_worked_answer_passes_and_a_wrong_one_fails(question, right, wrong, capsys):
    assert answer_is_right(question, right)
    assert not answer_is_right(question, wrong)
    check_answer(question, right)
    check_answer(question, wrong)
    out = capsys.readouterr().out
    assert f"Question {question}: correct." in out and "Hint:" in out


def test_rounded_answers_pass():
    assert answer_is_right("9.1", 4.72e6)
    assert answer_is_right("9.3", 3.5)
