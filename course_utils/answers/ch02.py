"""Answer keys of chapter 2's end-of-chapter questions (see `course_utils.questions`), computed
from the course's reference `identity_block`."""

import keras

from course_utils.questions import Answer
from course_utils.resnet import identity_block


def stage4_identity_block_parameters() -> int:
    """All the parameters of an identity block of stage 4: filters (256, 256, 1024), f = 3."""
    inputs = keras.Input(shape=(4, 4, 1024))
    return keras.Model(inputs, identity_block(inputs, 3, (256, 256, 1024), 4, "b")).count_params()


def shape_after_first_relu() -> tuple:
    """The shape after the first ReLU of an identity block (128, 128, 512) on (m, 8, 8, 512)."""
    inputs = keras.Input(shape=(8, 8, 512))
    block = keras.Model(inputs, identity_block(inputs, 3, (128, 128, 512), 3, "b"))
    first_relu = next(layer for layer in block.layers if isinstance(layer, keras.layers.Activation))
    return tuple(first_relu.output.shape)


ANSWERS = {
    "2.1": Answer(
        expected=stage4_identity_block_parameters,
        hint="three convolutions of (window x window x input channels + 1) x filters each, and "
        "4 numbers per channel for each of the three batch normalisations. Give the exact count.",
        rel_tol=0,
    ),
    "2.2": Answer(
        expected=shape_after_first_relu,
        hint="the first convolution is 1x1 with stride 1: it keeps the height and width and "
        "outputs F1 channels.",
    ),
}
