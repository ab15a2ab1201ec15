"""Chapter 8's answer keys are right: each is worked out here independently of the key."""

import keras
import pytest
import tensorflow as tf

from course_utils import skip_experiment as skip
from course_utils.answers.ch08 import ANSWERS, BRANCH_WEIGHT
from course_utils.questions import answer_is_right, check_answer


def _gradient_through(blocks: int, residual: bool) -> float:
    """d(top)/d(bottom) of `blocks` one-number blocks y = x + w x (residual) or y = w x, by
    automatic differentiation."""
    x = tf.Variable(1.0, dtype=tf.float64)
    w = tf.constant(BRANCH_WEIGHT, dtype=tf.float64)
    with tf.GradientTape() as tape:
        a = x
        for _ in range(blocks):
            a = a + w * a if residual else w * a
    return float(tape.gradient(a, x))


def test_the_gradient_through_twenty_small_blocks_is_kept_by_shortcuts_and_lost_without():
    residual, plain = ANSWERS["8.1"].value()
    assert residual == pytest.approx(_gradient_through(20, residual=True), rel=1e-12)
    assert plain == pytest.approx(_gradient_through(20, residual=False), rel=1e-12)
    assert residual == pytest.approx(2.6533, rel=1e-4)


def _residual_network_with_dense_shortcuts() -> keras.Model:
    """The chapter's deep residual network with a Dense(WIDTH) layer on every shortcut."""
    inputs = keras.Input(shape=(skip.THUMBNAIL**2,))
    a = keras.layers.Dense(skip.WIDTH, activation="relu")(inputs)
    for _ in range(skip.DEEP // 2):
        z = keras.layers.Dense(skip.WIDTH, activation="relu")(a)
        z = keras.layers.Dense(skip.WIDTH)(z)
        a = keras.layers.Activation("relu")(keras.layers.Dense(skip.WIDTH)(a) + z)
    return keras.Model(inputs, keras.layers.Dense(skip.N_CLASSES)(a))


def test_dense_shortcuts_add_one_dense_layer_per_block_to_the_residual_network():
    keras.backend.clear_session()
    identity = skip.build_network(skip.DEEP, residual=True).count_params()
    projected = _residual_network_with_dense_shortcuts().count_params()
    assert ANSWERS["8.2"].value() == projected == identity + 20 * (16 * 16 + 16) == 17462


@pytest.mark.parametrize(
    "question, right, wrong",
    [
        ("8.1", (2.65, 1e-26), (1.0, 0.0)),
        ("8.1", (1.05**20, 0.05**20), (2.65, 1.0)),
        ("8.2", 17462, 12022),
    ],
)
def test_the_worked_answer_passes_and_a_wrong_one_fails(question, right, wrong, capsys):
    assert answer_is_right(question, right)
    assert not answer_is_right(question, wrong)
    check_answer(question, right)
    assert "correct" in capsys.readouterr().out


def test_the_unanswered_question_asks_for_an_answer(capsys):
    assert not answer_is_right("8.1", ...)
    check_answer("8.1", ...)
    assert "replace ... with your answer" in capsys.readouterr().out
