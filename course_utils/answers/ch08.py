"""Answer keys of chapter 8's end-of-chapter questions (see `course_utils.questions`)."""

from course_utils import skip_experiment as skip
from course_utils.questions import Answer

BRANCH_WEIGHT = 0.05  # w in question 8.1


def gradient_factors_through_the_blocks() -> tuple[float, float]:
    """(residual, plain): the factor by which the gradient changes through DEEP / 2 blocks of one
    number each, with dy/dx = 1 + w for a residual block and dy/dx = w for a plain layer."""
    blocks = skip.DEEP // 2
    return (1 + BRANCH_WEIGHT) ** blocks, BRANCH_WEIGHT**blocks


def parameters_with_dense_shortcuts() -> int:
    """The parameters of the deep residual network if each shortcut were a Dense layer of WIDTH
    units with biases: the network's own parameters plus one such layer per block."""
    inputs, width, classes = skip.THUMBNAIL**2, skip.WIDTH, skip.N_CLASSES
    dense = width * width + width  # a Dense(width) layer on width inputs
    network = (inputs * width + width) + skip.DEEP * dense + (width * classes + classes)
    return network + (skip.DEEP // 2) * dense


ANSWERS = {
    "8.1": Answer(
        expected=gradient_factors_through_the_blocks,
        hint="the gradient is multiplied by dy/dx once per block: 1 + w for a residual block, w "
        "for a plain layer. Answer with a tuple (residual, plain).",
    ),
    "8.2": Answer(
        expected=parameters_with_dense_shortcuts,
        hint="start from the residual network's parameters printed in the chapter and add, for "
        "each of the 20 shortcuts, the weights and biases of a Dense layer from 16 to 16 units.",
    ),
}
