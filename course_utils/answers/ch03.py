"""Answer keys of chapter 3's end-of-chapter questions (see `course_utils.questions`), computed
from the course's reference `convolutional_block`."""

import keras

from course_utils.questions import Answer
from course_utils.resnet import convolutional_block


def _stage4_first_block() -> keras.Model:
    """The first block of stage 4: filters (256, 256, 1024), f = 3, s = 2, on (m, 8, 8, 512)."""
    inputs = keras.Input(shape=(8, 8, 512))
    outputs = convolutional_block(inputs, 3, (256, 256, 1024), stage=4, block="a", s=2)
    return keras.Model(inputs, outputs)


def stage4_block_output_shape() -> tuple:
    return tuple(_stage4_first_block().output.shape)


def stage4_block_parameters() -> int:
    return _stage4_first_block().count_params()


def positions_read_by_strided_1x1(size: int = 15, stride: int = 2) -> int:
    """The positions of a (size, size) map that a 1x1 convolution with `stride` reads."""
    return len(range(0, size, stride)) ** 2


ANSWERS = {
    "3.1": Answer(
        expected=stage4_block_output_shape,
        hint="both paths divide the height and width by s (rounding up) and output F3 channels.",
    ),
    "3.2": Answer(
        expected=stage4_block_parameters,
        hint="four convolutions (three on the main path, one on the shortcut), each with "
        "(window x window x input channels + 1) x filters parameters, and 4 per channel for each "
        "of the four batch normalisations. Give the exact count.",
        rel_tol=0,
    ),
    "3.3": Answer(
        expected=positions_read_by_strided_1x1,
        hint="in each direction it reads positions 0, 2, 4, ... of the 15.",
        rel_tol=0,
    ),
}
