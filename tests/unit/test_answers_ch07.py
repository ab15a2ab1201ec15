"""Chapter 7's answer keys are right: each is worked out here independently of the key."""

import keras
import pytest

from course_utils.answers.ch07 import ANSWERS, stage4_grid
from course_utils.questions import answer_is_right
from course_utils.resnet import ResNet50


@pytest.mark.parametrize("size", [64, 224])
def test_stage_4_grid_is_what_stage_5_receives_in_the_built_network(size):
    keras.backend.clear_session()
    model = ResNet50(input_shape=(size, size, 3), classes=6)
    side = model.get_layer("res5a_branch2a").input.shape[1]
    assert stage4_grid(size) == (side, size // side)


def test_question_7_1_is_fourteen_cells_of_sixteen_pixels():
    assert ANSWERS["7.1"].value() == (14, 16)
    assert answer_is_right("7.1", (14, 16))
    assert not answer_is_right("7.1", (4, 16))
    assert not answer_is_right("7.1", (16, 14))
