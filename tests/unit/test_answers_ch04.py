"""Chapter 4's answer keys agree with the models they are about."""

from __future__ import annotations

import keras
import pytest

from course_utils.answers.ch04 import ANSWERS, dense_inputs, parameters, stage5_shape
from course_utils.questions import answer_is_right, check_answer
from course_utils.resnet import ResNet50


@pytest.fixture(scope="module")
def large():
    keras.backend.clear_session()
    return ResNet50(input_shape=(128, 128, 3), classes=6)


def test_stage5_shape_is_the_built_models(large):
    assert stage5_shape(128) == tuple(large.get_layer("bn5c_branch2c").output.shape)
    assert stage5_shape(64) == (None, 2, 2, 2048)


def test_dense_inputs_are_the_built_models(large):
    assert dense_inputs(128) == large.get_layer("fc6").input.shape[-1]


def test_parameters_for_ten_classes_are_the_built_models():
    keras.backend.clear_session()
    assert parameters(10) == ResNet50(classes=10).count_params()


@pytest.mark.parametrize(
    ("question", "right", "wrong"),
    [
        ("4.1", (None, 4, 4, 2048), (None, 2, 2, 2048)),
        ("4.2", 23_608_202, 23_600_006),
        ("4.3", 8192, 2048),
    ],
)
def test_keys_accept_the_answer_and_refuse_others(question, right, wrong, capsys):
    assert answer_is_right(question, right)
    assert not answer_is_right(question, wrong)
    check_answer(question, wrong)
    assert str(right) not in capsys.readouterr().out
    assert set(ANSWERS) == {"4.1", "4.2", "4.3"}
