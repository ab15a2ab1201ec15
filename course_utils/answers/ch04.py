"""Answer keys of chapter 4's "check your understanding" questions."""

from __future__ import annotations

import math

from course_utils.questions import Answer
from course_utils.resnet import RESNET50_STAGES


def stage5_shape(size: int = 128) -> tuple:
    """The output shape of stage 5 for size x size images, from the stem and the stage strides."""
    after_stem = math.floor((size + 6 - 7) / 2) + 1  # padding 3, 7x7 conv, stride 2
    side = math.floor((after_stem - 3) / 2) + 1  # 3x3 max pooling, stride 2
    for *_, stride in RESNET50_STAGES:
        side = math.ceil(side / stride)
    return (None, side, side, RESNET50_STAGES[-1][1][2])


def parameters(classes: int) -> int:
    """ResNet-50's parameters for 64x64 images and `classes` classes: the 6-class count of the
    course with the Dense head resized (2048 inputs, one weight per class each, plus biases)."""
    return 23_600_006 + (classes - 6) * (2048 + 1)


def dense_inputs(size: int = 128) -> int:
    """Inputs of the Dense head for size x size images: stage 5's map after a 2x2 pooling."""
    _, side, _, channels = stage5_shape(size)
    return (side // 2) ** 2 * channels


ANSWERS = {
    "4.1": Answer(
        stage5_shape,
        hint="follow the side step by step: (n + 2 * 3 - 7) // 2 + 1 after the 7x7 convolution, "
        "(n - 3) // 2 + 1 after the max pooling, then halve it, rounding up, in stages 3, 4 and "
        "5; the channels are stage 5's last filters.",
    ),
    "4.2": Answer(
        lambda: parameters(10),
        hint="the Dense layer has 2048 inputs and one weight per input and class, plus a bias "
        "per class.",
        rel_tol=0.0,
    ),
    "4.3": Answer(
        dense_inputs,
        hint="take your answer to 4.1; the 2x2 pooling halves each side, the channels stay.",
    ),
}
