"""Chapter 9's answer keys are right: each is worked out here independently of the key."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import resnet, variants
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


def test_block_res3a_of_v1_ignores_161_of_its_225_input_positions_and_v1_5_none():
    # Which input positions does the block's output depend on? Those with a non-zero gradient.
    def ignored(block) -> int:
        keras.backend.clear_session()
        inputs = keras.Input((15, 15, 256))
        model = keras.Model(inputs, block(inputs, 3, (128, 128, 512), 3, "a", s=2))
        x = tf.Variable(np.random.default_rng(0).uniform(0.5, 1, (1, 15, 15, 256)), dtype="float32")
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(model(x, training=False))
        influence = np.abs(tape.gradient(total, x).numpy()).sum(axis=-1)
        return int(np.count_nonzero(influence == 0))

    assert ANSWERS["9.2"].value() == ignored(resnet.convolutional_block) == 225 - 64 == 161
    assert ignored(variants.convolutional_block_v1_5) == 0


def test_the_unstrided_1x1_of_v1_5_does_225_over_64_times_the_work():
    # res3a_branch2a: 256 input channels, 128 filters, on stage 2's 15 x 15 map.
    v1 = (8 * 8) * 256 * 128
    v1_5 = (15 * 15) * 256 * 128
    assert ANSWERS["9.3"].value() == pytest.approx(v1_5 / v1) == 225 / 64


@pytest.mark.parametrize(
    "question, right, wrong",
    [("9.1", 4_723_712, 4_471_808), ("9.2", 161, 64), ("9.3", 3.52, 1)],
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
