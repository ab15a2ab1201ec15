"""Graders of chapter 9's exercises, the v1.5 convolutional block, the pre-activation identity
block and the basic block of ResNet-18 and ResNet-34, which the chapter's check cells import like
the other graders: each compares a learner's
block with the reference of `course_utils.variants` on small inputs, through `harness.report`."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from keras import layers

from course_utils import variants
from course_utils.grading.harness import (
    GradingFailure,
    LearnerFailure,
    agreement,
    as_model,
    call_learner,
    fill_weights,
    outputs_in_both_modes,
    report,
    shape_text,
    weight_signature,
)
from course_utils.grading.own_work import require_own_function


def check_convolutional_block_v1_5(convolutional_block_v1_5: Callable) -> bool:
    """Grade a learner's ``convolutional_block_v1_5(X, f, filters, stage, block, s=2)``.

    Prints ``All tests passed.`` and returns True, or prints what is wrong and returns False.
    Never raises.
    """
    return check_variant_block(convolutional_block_v1_5, "convolutional_block_v1_5")


def check_preactivation_identity_block(preactivation_identity_block: Callable) -> bool:
    """Grade a learner's ``preactivation_identity_block(X, f, filters, stage, block)``.

    Prints ``All tests passed.`` and returns True, or prints what is wrong and returns False.
    Never raises.
    """
    return check_variant_block(preactivation_identity_block, "preactivation_identity_block")


def check_basic_block(basic_block: Callable) -> bool:
    """Grade a learner's ``basic_block(X, f, filters, stage, block, s=1)``.

    Prints ``All tests passed.`` and returns True, or prints what is wrong and returns False.
    Never raises.
    """
    return check_variant_block(basic_block, "basic_block")


# The small inputs on which `check_variant_block` compares a block with its reference: distinct
# numbers of channels, so that every convolution and normalisation has a shape of its own.
_CHECK_INPUTS = {
    "preactivation_identity_block": [
        ((5, 4, 6), 3, (2, 3, 6), None),
        ((4, 6, 5), 2, (3, 4, 5), None),
    ],
    "convolutional_block_v1_5": [((6, 5, 3), 3, (4, 2, 7), 2), ((7, 7, 5), 3, (3, 6, 4), 3)],
    # The shape kept (the shortcut is X), more channels, and a stride (a projection shortcut).
    "basic_block": [
        ((5, 4, 6), 3, (4, 6), None),
        ((4, 6, 3), 3, (4, 5), None),
        ((7, 7, 5), 3, (3, 6), 2),
    ],
}
_REFERENCES = {
    "preactivation_identity_block": variants.preactivation_identity_block,
    "convolutional_block_v1_5": variants.convolutional_block_v1_5,
    "basic_block": variants.basic_block,
}
_SIGNATURES = {
    "preactivation_identity_block": "preactivation_identity_block(X, f, filters, stage, block)",
    "convolutional_block_v1_5": "convolutional_block_v1_5(X, f, filters, stage, block, s=2)",
    "basic_block": "basic_block(X, f, filters, stage, block, s=1)",
}
_ORDER_HINTS = {
    "preactivation_identity_block": (
        "each of the three steps is BatchNormalization(axis=3) -> ReLU -> Conv2D; the shortcut is "
        "added to the last convolution's output, and nothing follows the addition (no ReLU)."
    ),
    "convolutional_block_v1_5": (
        "the layers are those of your convolutional_block; only the strides move: the first 1x1 "
        "convolution has strides (1, 1), the f x f convolution strides (s, s) with 'same' "
        "padding, the shortcut convolution strides (s, s)."
    ),
    "basic_block": (
        "go back to the block's description: which convolution takes the stride, what the "
        "shortcut must become when the output's shape differs from the input's, and where each "
        "BatchNormalization and ReLU sits."
    ),
}


def check_variant_block(function: Callable, name: str) -> bool:
    """Compare a learner's block `name` ("preactivation_identity_block" or
    "convolutional_block_v1_5") with the reference of `course_utils.variants`.

    On small inputs, checks the output shape, the parameter count, and the outputs in inference
    and training mode when both blocks hold the same weights. Prints ``All tests passed.``, or
    what differs and a hint; refuses the reference itself. Never raises.

    Returns:
        True when the blocks agree on every input.
    """
    return report(lambda: _check_variant(function, name))


def _check_variant(function: Callable, name: str) -> None:
    require_own_function(function, name)
    for case in _CHECK_INPUTS[name]:
        _compare_block(function, name, *case)


def _compare_block(function, name, input_shape, f, filters, s) -> None:
    """One comparison; raises GradingFailure, naming the input, when the blocks differ."""
    args = (f, list(filters), 2, "a") + (() if s is None else (s,))
    described = f"input {shape_text((None, *input_shape))}, f={f}, filters={list(filters)}"
    described += "" if s is None else f", s={s}"

    inputs = keras.Input(input_shape)
    reference = keras.Model(inputs, _REFERENCES[name](inputs, *args))
    inputs = keras.Input(input_shape)
    try:
        outputs = call_learner(function, inputs, *args, what=name, signature=_SIGNATURES[name])
    except LearnerFailure as failure:
        advice = _ORDER_HINTS[name]
        hint = "" if failure.explained else f"\nHint: {advice[0].upper()}{advice[1:]}"
        raise GradingFailure(f"{described}: {failure}{hint}") from None
    model = as_model(inputs, outputs, name)

    expected_shape = tuple(reference.output.shape)
    if tuple(model.output.shape) != expected_shape:
        raise GradingFailure(
            f"{described}: the output has shape {shape_text(model.output.shape)}, expected "
            f"{shape_text(expected_shape)}."
        )
    if model.count_params() != reference.count_params():
        raise GradingFailure(
            f"{described}: {model.count_params():,} parameters, expected "
            f"{reference.count_params():,}: check the layers and their numbers of filters."
        )
    if weight_signature(model) != weight_signature(reference):
        raise GradingFailure(
            f"{described}: the weights differ in shape from the reference's. " + _ORDER_HINTS[name]
        )
    x = np.random.default_rng(len(input_shape) + f).standard_normal((3, *input_shape))
    x = x.astype("float32")
    fill_weights(model)
    fill_weights(reference)
    agree = agreement(outputs_in_both_modes(model, x), outputs_in_both_modes(reference, x))
    if not all(agree.values()):
        seen = _wiring_hint(model, name, filters[0])
        advice = _ORDER_HINTS[name]
        hint = seen + advice if seen else advice[0].upper() + advice[1:]
        raise GradingFailure(
            f"{described}: with the same weights as the reference, the block computes different "
            f"outputs.\nHint: {hint}"
        )


def _wiring_hint(model: keras.Model, name: str, F1: int) -> str:
    """The first words of the hint, naming a mistake seen in the block's layers, if any."""
    if name == "preactivation_identity_block":
        after_input = [layer for layer in model.layers[1:] if layer.input is model.input]
        if any(isinstance(layer, layers.Conv2D) for layer in after_input):
            return "A convolution reads the block's input before any normalisation: "
        last = model.layers[-1]
        if isinstance(last, layers.Activation) and last.activation is keras.activations.relu:
            return "A ReLU follows the addition, which a pre-activation block does not have: "
        return ""
    if name == "basic_block":
        return _basic_block_wiring(model)
    for layer in model.layers:  # the first 1x1 convolution has F1 != F3 filters in every case
        if isinstance(layer, layers.Conv2D) and tuple(layer.kernel.shape[:2]) == (1, 1):
            first = layer.input is model.input and layer.filters == F1
            if first and tuple(layer.strides) != (1, 1):
                return f"The first 1x1 convolution has strides {tuple(layer.strides)}: "
    return ""


def _basic_block_wiring(model: keras.Model) -> str:
    last = model.layers[-1]
    if isinstance(last, layers.Add):
        return "No ReLU follows the addition, which a basic block has: "
    convolutions = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    strided = [layer for layer in convolutions if tuple(layer.strides) != (1, 1)]
    first = next((layer for layer in convolutions if layer.input is model.input), None)
    if strided and first is not None and tuple(first.kernel.shape[:2]) != (1, 1):
        if tuple(first.strides) == (1, 1):
            return "The first f x f convolution has strides (1, 1): "
    return ""
