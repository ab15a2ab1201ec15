"""The check of chapter 9's blocks (course_utils.grading.variants): it passes a learner's copy of
the reference with the verdict chapter 9 stores, names the usual mistakes, and never raises."""

import inspect

import keras
import pytest
from keras import layers
from keras.initializers import glorot_uniform

from course_utils import resnet, variants
from course_utils.grading import (
    check_convolutional_block_v1_5,
    check_preactivation_identity_block,
)
from course_utils.grading.variants import check_variant_block

# What chapter 9's check cells print for a correct block (their stored outputs, which nbval
# compares).
PASSED_OUTPUT = {
    "convolutional_block_v1_5": (
        "Your convolutional_block_v1_5 computes what the reference computes:\n"
        "  input (m, 6, 5, 3), f=3, filters=[4, 2, 7], s=2: output (m, 3, 3, 7), 219 parameters, "
        "same outputs with the same weights\n"
        "  input (m, 7, 7, 5), f=3, filters=[3, 6, 4], s=3: output (m, 3, 3, 4), 306 parameters, "
        "same outputs with the same weights\n"
    ),
    "preactivation_identity_block": (
        "Your preactivation_identity_block computes what the reference computes:\n"
        "  input (m, 5, 4, 6), f=3, filters=[2, 3, 6]: output (m, 5, 4, 6), 139 parameters, "
        "same outputs with the same weights\n"
        "  input (m, 4, 6, 5), f=2, filters=[3, 4, 5]: output (m, 4, 6, 5), 143 parameters, "
        "same outputs with the same weights\n"
    ),
}
GRADERS = {
    "convolutional_block_v1_5": check_convolutional_block_v1_5,
    "preactivation_identity_block": check_preactivation_identity_block,
}


def _learner_copy(name):
    """The reference's source, defined anew as the exercise cell defines it."""
    namespace = {"layers": layers, "glorot_uniform": glorot_uniform}
    exec(inspect.getsource(getattr(variants, name)), namespace)
    return namespace[name]


@pytest.mark.parametrize("name", ["preactivation_identity_block", "convolutional_block_v1_5"])
def test_check_variant_block_passes_the_reference(name, capsys):
    assert check_variant_block(getattr(variants, name), name)
    assert capsys.readouterr().out == PASSED_OUTPUT[name]


@pytest.mark.parametrize("name", ["preactivation_identity_block", "convolutional_block_v1_5"])
def test_the_chapter_grader_passes_a_learner_copy_with_the_stored_verdict(name, capsys):
    keras.backend.clear_session()
    assert GRADERS[name](_learner_copy(name))
    assert capsys.readouterr().out == PASSED_OUTPUT[name]


@pytest.mark.parametrize("name", ["preactivation_identity_block", "convolutional_block_v1_5"])
def test_the_chapter_grader_refuses_the_reference_itself(name, capsys):
    assert not GRADERS[name](getattr(variants, name))
    assert capsys.readouterr().out.startswith(
        f"Test failed: {name} is the course's reference implementation"
    )


def test_check_variant_block_names_a_stride_left_on_the_first_1x1(capsys):
    assert not check_variant_block(resnet.convolutional_block, "convolutional_block_v1_5")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:")
    assert "The first 1x1 convolution has strides (2, 2)" in out


def test_check_variant_block_names_a_relu_after_the_addition(capsys):
    def with_final_relu(X, f, filters, stage, block):
        X = variants.preactivation_identity_block(X, f, filters, stage, block)
        return layers.Activation("relu")(X)

    assert not check_variant_block(with_final_relu, "preactivation_identity_block")
    assert "A ReLU follows the addition" in capsys.readouterr().out


def test_check_variant_block_reports_an_error_without_raising(capsys):
    def broken(X, f, filters, stage, block):
        F1, F2 = filters
        return X

    assert not check_variant_block(broken, "preactivation_identity_block")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "ValueError" in out
