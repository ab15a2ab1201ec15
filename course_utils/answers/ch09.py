"""Answer keys of chapter 9's end-of-chapter questions (see `course_utils.questions`)."""

import functools

import keras

from course_utils import resnet, variants
from course_utils.questions import Answer


def stage5_basic_block_parameters() -> int:
    """The parameters of an identity basic block of ResNet-18's stage 5 (512 channels)."""
    inputs = keras.Input((2, 2, 512))
    return keras.Model(inputs, variants.basic_block(inputs, 3, (512, 512), 5, "b")).count_params()


@functools.cache
def _positions_of_res3a_first_convolution() -> tuple[tuple[int, int], ...]:
    """The (n_H, n_W) that block res3a's first 1x1 convolution reads and writes in ResNet-50 v1,
    and the (n_H, n_W) it writes in v1.5, from the reference models."""
    v1 = resnet.ResNet50().get_layer("res3a_branch2a")
    v1_5 = variants.ResNet50_v1_5().get_layer("res3a_branch2a")
    return tuple(v1.input.shape[1:3]), tuple(v1.output.shape[1:3]), tuple(v1_5.output.shape[1:3])


def positions_ignored_by_res3a_v1() -> int:
    """The input positions of res3a in v1 that neither of its input convolutions reads: both are
    1x1 with stride 2, reading one input position per output position, the same ones."""
    (n_H_in, n_W_in), (n_H, n_W), _ = _positions_of_res3a_first_convolution()
    return n_H_in * n_W_in - n_H * n_W


def work_ratio_of_the_unstrided_1x1() -> float:
    """Multiplications of res3a's first 1x1 convolution in v1.5 over v1: the same multiplications
    per output position (n_C_prev x F1), so the ratio of their output positions."""
    _, (h1, w1), (h15, w15) = _positions_of_res3a_first_convolution()
    return (h15 * w15) / (h1 * w1)


ANSWERS = {
    "9.1": Answer(
        expected=stage5_basic_block_parameters,
        hint="two 3 x 3 convolutions from 512 to 512 channels (weights and biases), and two "
        "BatchNormalization layers of 512 channels with 4 numbers per channel.",
    ),
    "9.2": Answer(
        expected=positions_ignored_by_res3a_v1,
        hint="both convolutions read the same positions, one per output position; count the "
        "positions they read (question 3.3), then the others.",
        rel_tol=0.0,
    ),
    "9.3": Answer(
        expected=work_ratio_of_the_unstrided_1x1,
        hint="each output position costs the same number of multiplications in both versions; "
        "count the output positions of res3a_branch2a in v1 (stride 2) and in v1.5 (stride 1).",
    ),
}
