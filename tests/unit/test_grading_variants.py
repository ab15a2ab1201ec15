"""The check of chapter 9's blocks (course_utils.grading.variants): it passes a learner's copy of
the reference with the verdict every chapter prints, refuses the reference and wrappers around it,
shows what the learner's block prints, names the usual mistakes, and never raises."""

import inspect

import keras
import pytest
from keras import layers
from keras.initializers import glorot_uniform

from course_utils import resnet, variants
from course_utils.grading import (
    check_basic_block,
    check_convolutional_block_v1_5,
    check_preactivation_identity_block,
)
from course_utils.grading.variants import check_variant_block

# What chapter 9's check cells print for a correct block, like every other chapter's checks.
PASSED_OUTPUT = "All tests passed.\n"
GRADERS = {
    "basic_block": check_basic_block,
    "convolutional_block_v1_5": check_convolutional_block_v1_5,
    "preactivation_identity_block": check_preactivation_identity_block,
}


def _learner_copy(name):
    """The reference's source, defined anew as the exercise cell defines it."""
    namespace = {"layers": layers, "glorot_uniform": glorot_uniform}
    exec(inspect.getsource(getattr(variants, name)), namespace)
    return namespace[name]


@pytest.mark.parametrize("name", sorted(GRADERS))
def test_the_chapter_grader_passes_a_learner_copy_with_the_stored_verdict(name, capsys):
    keras.backend.clear_session()
    assert GRADERS[name](_learner_copy(name))
    assert capsys.readouterr().out == PASSED_OUTPUT


@pytest.mark.parametrize("name", sorted(GRADERS))
def test_the_chapter_grader_refuses_the_reference_itself(name, capsys):
    assert not GRADERS[name](getattr(variants, name))
    assert capsys.readouterr().out.startswith(
        f"Test failed: {name} is the course's reference implementation"
    )


def test_check_variant_block_names_a_stride_left_on_the_first_1x1(capsys):
    assert not check_variant_block(resnet.convolutional_block, "convolutional_block_v1_5")
    out = capsys.readouterr().out
    assert out.startswith("Test failed:")
    assert "The first 1x1 convolution has strides (2, 2)" in out


def test_check_variant_block_names_a_relu_after_the_addition(capsys):
    learner_block = _learner_copy("preactivation_identity_block")

    def with_final_relu(X, f, filters, stage, block):
        X = learner_block(X, f, filters, stage, block)
        return layers.Activation("relu")(X)

    assert not check_variant_block(with_final_relu, "preactivation_identity_block")
    assert "A ReLU follows the addition" in capsys.readouterr().out


def test_check_variant_block_reports_an_error_without_raising(capsys):
    def broken(X, f, filters, stage, block):
        F1, F2 = filters
        return X

    assert not check_variant_block(broken, "preactivation_identity_block")
    out = capsys.readouterr().out
    assert out.startswith("Test failed:") and "ValueError" in out


@pytest.mark.parametrize("name", ["preactivation_identity_block", "convolutional_block_v1_5"])
def test_a_wrapper_around_the_reference_is_refused(name, capsys):
    reference = getattr(variants, name)

    def wrapper(*args):
        return reference(*args)

    assert not GRADERS[name](wrapper)
    assert capsys.readouterr().out.startswith(
        f"Test failed: {name} calls the course's reference implementation "
        f"(course_utils.variants.{name})"
    )


def test_what_the_learner_block_prints_is_shown_before_the_verdict(capsys):
    learner_block = _learner_copy("preactivation_identity_block")

    def printing(X, f, filters, stage, block):
        print("shape in:", tuple(X.shape))
        return learner_block(X, f, filters, stage, block)

    assert check_preactivation_identity_block(printing)
    assert capsys.readouterr().out == (
        "Your function printed:\n    shape in: (None, 5, 4, 6)\nAll tests passed.\n"
    )


def test_the_stride_on_both_convolutions_gets_the_hint_where_the_strides_go(capsys):
    source = inspect.getsource(variants.convolutional_block_v1_5)
    # The learner moves the stride to the f x f convolution but leaves it on the first 1x1 too.
    both = source.replace(
        'strides=(1, 1),\n        padding="valid"', 'strides=(s, s),\n        padding="valid"', 1
    )
    assert both != source
    namespace = {"layers": layers, "glorot_uniform": glorot_uniform}
    exec(both, namespace)
    assert not check_convolutional_block_v1_5(namespace["convolutional_block_v1_5"])
    out = capsys.readouterr().out
    assert out.startswith("Test failed:")
    assert "Hint:" in out and "the first 1x1 convolution has strides (1, 1)" in out


def _conv(filters, size, stride, padding="same"):
    return layers.Conv2D(filters, (size, size), strides=(stride, stride), padding=padding)


def _basic(X, f, filters, s, *, stride_on_second=False, project="when needed", final_relu=True,
           relu_before_norm=False):  # fmt: skip
    """A basic block with one mistake switched on."""
    F1, F2 = filters
    shortcut = X
    X = _conv(F1, f, 1 if stride_on_second else s)(X)
    if relu_before_norm:
        X = layers.BatchNormalization(axis=3)(layers.Activation("relu")(X))
    else:
        X = layers.Activation("relu")(layers.BatchNormalization(axis=3)(X))
    X = layers.BatchNormalization(axis=3)(_conv(F2, f, s if stride_on_second else 1)(X))
    needed = s != 1 or shortcut.shape[-1] != F2
    if project == "always" or (project == "when needed" and needed):
        shortcut = layers.BatchNormalization(axis=3)(_conv(F2, 1, s, "valid")(shortcut))
    X = layers.Add()([X, shortcut])
    return layers.Activation("relu")(X) if final_relu else X


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        ({"final_relu": False}, "No ReLU follows the addition, which a basic block has"),
        ({"stride_on_second": True}, "The first f x f convolution has strides (1, 1)"),
        ({"project": "always"}, "parameters, expected"),
        ({"project": "never"}, "basic_block raised"),
        ({"relu_before_norm": True}, "Go back to the block's description"),
    ],
)
def test_a_wrong_basic_block_fails_with_its_hint(mistake, hint, capsys):
    def basic_block(X, f, filters, stage, block, s=1):
        return _basic(X, f, filters, s, **mistake)

    assert not check_basic_block(basic_block)
    out = capsys.readouterr().out
    assert out.startswith("Test failed: ")
    assert hint in out


def test_a_basic_block_with_every_layer_right_passes(capsys):
    def basic_block(X, f, filters, stage, block, s=1):
        return _basic(X, f, filters, s)

    assert check_basic_block(basic_block)
    assert capsys.readouterr().out == PASSED_OUTPUT
